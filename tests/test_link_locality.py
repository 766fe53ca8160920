"""Linking decides each component of ties on its own (`tipfusion.link.locality`): the ground an incremental link
stands on. Checked on generated stores: any set of whole components linked alone, with the whole store's model,
gives the suspects, networks and explanations linking everything gives there."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

import pytest

from tipfusion.config import Settings
from tipfusion.enrich.demo import build_demo_reference
from tipfusion.enrich.service import EnrichConfig, EnrichService
from tipfusion.ingest import IngestService
from tipfusion.link.extract import load_input
from tipfusion.link.locality import suspect_regions, tie_components, within
from tipfusion.link.networks import CONTACT_EVIDENCE, GROUP_EVIDENCE, find_networks
from tipfusion.link.records import Clustering, LinkInput, LinkModel
from tipfusion.link.settings import LinkSettings
from tipfusion.link.suspects import resolve_suspects
from tipfusion.store.db import make_engine, snapshot, upgrade
from tipfusion.synth import generate

DEFAULTS = LinkSettings()
# caps low enough that many values a component shares with others are held by too many: what `within` must carry over
TIGHT = replace(
    DEFAULTS,
    caps=dict.fromkeys(DEFAULTS.caps, 3),
    group_cap=3,
    file_cap=3,
    contact_cap=1,
    colocation_cap=1,
)


@pytest.fixture(scope="module", params=[(700, 41), (1500, 7)], ids=["700-reports", "1500-reports"])
def store_input(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> LinkInput:
    """A generated store, ingested and enriched, as linking reads it."""
    reports, seed = request.param
    work = tmp_path_factory.mktemp("locality")
    generate(work / "batch", reports, seed=seed)
    url = f"sqlite:///{work / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    IngestService(engine, Settings(database_url=url), "tester").ingest_paths([work / "batch"])
    reference = build_demo_reference(work / "reference")
    EnrichService(
        engine, EnrichConfig(tuple(reference.databases), reference.isp_table, reference.warninglist), "tester"
    ).run()
    with snapshot(engine) as conn:
        data = load_input(conn)
    engine.dispose()
    return data


def linked(
    data: LinkInput, settings: LinkSettings, model: LinkModel | None = None
) -> tuple[Clustering, Clustering, dict[int, int], list[tuple[int, int]]]:
    ties: list[tuple[int, int]] = []
    suspects = resolve_suspects(data, settings, model, ties)
    networks, coarse = find_networks(data, suspects.label_of, settings, ties)
    return suspects, networks, coarse, ties


def explained(clustering: Clustering, keep: set[int]) -> Counter[str]:
    return Counter(repr(link) for link in clustering.links if link.a in keep)


@pytest.mark.parametrize("settings", [DEFAULTS, TIGHT], ids=["defaults", "tight-caps"])
def test_whole_components_linked_alone_give_what_linking_everything_gives(
    store_input: LinkInput, settings: LinkSettings
) -> None:
    suspects, networks, coarse, ties = linked(store_input, settings)
    component = tie_components(store_input.reports, suspects.label_of, ties)
    sizes = Counter(component.values())
    assert len(sizes) > 20 and max(sizes.values()) > 10  # many components, some of them rings
    suppressed = [*suspects.suppressed, *networks.suppressed]
    chosen = random.Random(5)
    labels = sorted(sizes)
    for share in (0.02, 0.1, 0.3, 0.6):
        picked = set(chosen.sample(labels, max(1, round(share * len(labels)))))
        part = {report for report, label in component.items() if label in picked}
        alone_suspects, alone_networks, alone_coarse, _ = linked(
            within(store_input, part, suppressed), settings, suspects.model
        )
        assert alone_suspects.label_of == {r: s for r, s in suspects.label_of.items() if r in part}
        held = set(alone_suspects.label_of.values())
        assert alone_networks.label_of == {s: n for s, n in networks.label_of.items() if s in held}
        assert alone_coarse == {s: c for s, c in coarse.items() if s in held}
        assert explained(alone_suspects, part) == explained(suspects, part)
        assert explained(alone_networks, held) == explained(networks, held)
        # each value the part holds is suppressed as the whole store's linking suppressed it, with the store's count
        held = values_held(store_input, part)
        alone_suppressed = {repr(s) for s in [*alone_suspects.suppressed, *alone_networks.suppressed]}
        assert alone_suppressed <= {repr(s) for s in suppressed}
        assert {repr(s) for s in suppressed if (s.kind, s.value) in held} <= alone_suppressed


def values_held(data: LinkInput, part: set[int]) -> set[tuple[str, str]]:
    """(kind, value) of everything the part's reports hold, as suppression records name them."""
    held = {(kind, key) for report, kind, key in data.identity if report in part}
    held |= {(GROUP_EVIDENCE, key) for report, key in data.groups if report in part}
    held |= {("file", key) for report, key, _ in data.files if report in part}
    held |= {(CONTACT_EVIDENCE, key) for report, key in data.recipients if report in part}
    return held


def test_a_part_weighed_by_its_own_measurements_can_differ(store_input: LinkInput) -> None:
    """Why the model is carried: a part measured on its own weighs names and disagreements by its own counts."""
    suspects, _, _, ties = linked(store_input, DEFAULTS)
    component = tie_components(store_input.reports, suspects.label_of, ties)
    part = {report for report, label in component.items() if label % 3 == 0}
    own = resolve_suspects(within(store_input, part, suspects.suppressed), DEFAULTS)
    assert suspects.model is not None and own.model is not None
    assert own.model.names.named < suspects.model.names.named


def test_a_line_the_part_shares_with_others_is_dropped_from_the_part() -> None:
    """Four suspects on one line on one day, above the cap: the line ties nobody. Two of them (one component: a group)
    taken alone hold it under the cap; `within` drops it, or it would join their explanation."""
    settings = replace(DEFAULTS, colocation_cap=2)
    data = LinkInput(
        [1, 2, 3, 4],
        [(r, "esp_user", f"esp/{r}") for r in (1, 2, 3, 4)],
        groups=[(1, "esp/ring"), (2, "esp/ring"), (3, "esp/other"), (4, "esp/other")],
        colocations=[(r, "198.18.0.9@2026-11-01") for r in (1, 2, 3, 4)],
    )
    suspects, networks, _, ties = linked(data, settings)
    assert {(link.a, link.b) for link in networks.links} == {(1, 2), (3, 4)}
    part = {r for r, c in tie_components(data.reports, suspects.label_of, ties).items() if c == 1}
    assert part == {1, 2}
    alone = within(data, part, [*suspects.suppressed, *networks.suppressed])
    assert list(alone.colocations) == []
    _, alone_networks, _, _ = linked(alone, settings, suspects.model)
    assert alone_networks.links == [link for link in networks.links if link.a in part]


@pytest.mark.parametrize("settings", [DEFAULTS, TIGHT], ids=["defaults", "tight-caps"])
def test_the_suspects_stage_decides_each_region_alone(store_input: LinkInput, settings: LinkSettings) -> None:
    """Regions are found without linking (`suspect_regions`): every pair the suspects stage judges lies in one, and
    whole regions linked alone with the store's model give the suspects linking everything gives."""
    judged: list[tuple[int, int]] = []
    suspects = resolve_suspects(store_input, settings, None, judged)
    assert suspects.model is not None
    region = suspect_regions(store_input, settings, suspects.model)
    assert judged and all(region[a] == region[b] for a, b in judged)
    assert all(region[report] == region[suspect] for report, suspect in suspects.label_of.items())
    sizes = Counter(region.values())
    assert len(sizes) > len(store_input.reports) / 10  # many regions, not one
    chosen = random.Random(9)
    for share in (0.05, 0.3):
        picked = set(chosen.sample(sorted(sizes), max(1, round(share * len(sizes)))))
        part = {report for report, label in region.items() if label in picked}
        alone = resolve_suspects(within(store_input, part, suspects.suppressed), settings, suspects.model)
        assert alone.label_of == {r: s for r, s in suspects.label_of.items() if r in part}
        assert explained(alone, part) == explained(suspects, part)
