"""A synthetic batch through every stage up to routing, quietly: what tests and benchmarks need before they look at
referrals and cases. (`tipfusion demo` runs the same stages with a report printed between each.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine

from tipfusion.config import Settings
from tipfusion.enrich.service import EnrichConfig, EnrichService
from tipfusion.ingest import IngestService
from tipfusion.link.service import LinkService
from tipfusion.route.service import import_jurisdiction, route_all
from tipfusion.triage.service import TriageService

if TYPE_CHECKING:
    from tipfusion.synth.generate import GenerateResult


def through_routing(engine: Engine, settings: Settings, actor: str, batch: GenerateResult) -> None:
    """Ingest, enrich (with the batch's demo reference data), link, triage, and route in the demo jurisdiction, by
    the settings' `[link]`, `[triage]` and `[routing]`."""
    tuning = settings.tuning()
    IngestService(engine, settings, actor).ingest_paths([batch.out])
    ref = batch.reference
    EnrichService(engine, EnrichConfig(tuple(ref.databases), ref.isp_table, ref.warninglist), actor).run()
    LinkService(engine, actor, tuning.link).run()
    TriageService(engine, actor, tuning.triage).run()
    import_jurisdiction(engine, actor, batch.out / "reference" / "demo-stations.geojson", synthetic=True)
    route_all(engine, actor, batch.out / "reference" / "demo-pins.csv", None, tuning.routing)
    from tipfusion.requests.service import pending_summary  # its letters' imports only for this step

    pending_summary(engine)  # the ISP requests page's counts, kept once rather than on its first view
