"""The analyst's tools as scoped services: search by any identifier, a network as a graph, and linking overrides.

These are central work: the analyst (and admin, supervisor) look across the whole store, so a district or station
officer — whose need to know is their referrals — is refused search as not found (audited, see `scope`); the graph
of a network follows the network page's rule (a network referred to their station or district). Viewing is audited
by the web layer in one place; an override is audited by `link.service.add_override` under the principal's name.

The graph is built from what `tipfusion link` stored (`link_explanations`, `report_links`, `suppressed_values`): no
linking logic here, only the reading of its explanation, so every edge can say why it exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, Engine, and_, select

from tipfusion.accounts.policy import CENTRAL_WORKERS
from tipfusion.accounts.principal import CENTRAL_ROLES, Principal
from tipfusion.config import Settings
from tipfusion.errors import NotFound, TipfusionError
from tipfusion.search import SearchResult, search
from tipfusion.search.readings import readings
from tipfusion.store.lookups import esp_scopes
from tipfusion.store.tables import (
    identifier_observations,
    report_links,
    reports,
    suppressed_values,
)
from tipfusion.workplace.cases import FieldErrors
from tipfusion.workplace.scope import require_roles, visible_referral
from tipfusion.workplace.views import visible_network

if TYPE_CHECKING:
    from tipfusion.refer.service import BuiltReferral

# Linking (NumPy, SciPy, igraph, Arrow) and the referral writers (WeasyPrint, Word, Excel) load inside the two actions
# that use them: every command and page that reads through this package (`cases advance`, `network show`) would
# otherwise load them to start, ~0.5 s each time on a 2-core machine.

OVERRIDING_ROLES = CENTRAL_WORKERS  # accounts.policy: as `tipfusion override …`
"""Who may tell the linker it was wrong: the central unit's analysts (and admins); supervisors only read."""

OverrideAction = Literal["split", "merge", "noise"]
OVERRIDE_ACTIONS: tuple[OverrideAction, ...] = ("split", "merge", "noise")

NOISE_KINDS = ("phone", "email", "esp_user", "screen_name", "device", "url", "ip", "group", "file", "lead")
"""Evidence kinds a value can be marked noise under (as `tipfusion override noise` takes them)."""

# kinds whose typed value is read into the canonical form the linker compares (a phone typed any way, an email)
_CANONICAL_READINGS = {"phone", "email", "ip", "device"}


def ensure_may_search(engine: Engine, principal: Principal) -> None:
    """Refuse (not found, audited) a role that may not search the store — for the empty search form."""
    with engine.connect() as conn:
        require_roles(conn, principal, CENTRAL_ROLES, "search")


def find(
    engine: Engine, principal: Principal, raw: str, phone_region: str, kind: str | None = None, limit: int = 500
) -> SearchResult:
    """Every report, suspect, network, lead and ISP answer holding the value, read as every kind it could be.

    A blank value or an unknown kind is a `FieldErrors` on `q` / `kind` (the search form's fields).
    """
    with engine.connect() as conn:
        require_roles(conn, principal, CENTRAL_ROLES, "search")
        try:
            return search(conn, raw, kind or None, phone_region, limit)
        except NotFound:
            raise
        except TipfusionError as error:
            name = "kind" if "kind" in str(error) else "q"
            raise FieldErrors({name: str(error)}) from error


@dataclass(frozen=True, slots=True)
class GraphNode:
    id: str  # "S100000042", "R100000042", "v:phone:+919811012345"
    kind: Literal["suspect", "report", "value"]
    label: str
    detail: str  # one line in words: what this node is


@dataclass(frozen=True, slots=True)
class GraphEdge:
    id: str
    source: str
    target: str
    kind: Literal["link", "holds", "report"]
    explains: str  # why the edge exists, in words (the graph's tooltip and the HTML list say the same)
    score: float | None = None


@dataclass(frozen=True, slots=True)
class NetworkGraph:
    """A network as nodes and edges, for cytoscape (`elements`) and for the HTML list beside it."""

    network_id: str
    asked_as: str
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    suppressed: tuple[dict[str, Any], ...]  # values seen in its reports the linker did not use, and why
    truncated: bool = False  # more links or reports than the graph shows (the HTML says so)
    omitted: dict[str, int] = field(default_factory=dict)  # what was left out, by kind

    def elements(self) -> dict[str, list[dict[str, Any]]]:
        """cytoscape.js `elements`: every node and edge with its `data` (nothing else: style lives in app JS)."""
        return {
            "nodes": [{"data": {"id": n.id, "kind": n.kind, "label": n.label, "detail": n.detail}} for n in self.nodes],
            "edges": [
                {
                    "data": {
                        "id": e.id,
                        "source": e.source,
                        "target": e.target,
                        "kind": e.kind,
                        "explains": e.explains,
                        "score": e.score,
                    }
                }
                for e in self.edges
            ],
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "network_id": self.network_id,
            "asked_as": self.asked_as,
            "elements": self.elements(),
            "suppressed": list(self.suppressed),
            "truncated": self.truncated,
            "omitted": dict(self.omitted),
        }


def _value_node_id(kind: str, value: str) -> str:
    return f"v:{kind}:{value}"


def _evidence_words(evidence: list[Any], shown: int = 4) -> str:
    parts = [f"{kind} {value} (weight {float(weight):g})" for kind, value, weight in evidence[:shown]]
    if len(evidence) > shown:
        parts.append(f"{len(evidence) - shown} more")
    return "; ".join(parts) or "no evidence recorded"


def network_graph(
    engine: Engine,
    principal: Principal,
    network_id: str,
    max_links: int = 300,
    reports_per_suspect: int = 8,
    max_suppressed: int = 200,
) -> NetworkGraph:
    """The network's suspects, the values they share and their reports, each edge with the words that explain it.

    Bounded for the browser: the strongest `max_links` suspect links, up to `reports_per_suspect` reports per
    suspect; what is left out is counted in `omitted`. Old network names are followed to the current one.
    """
    with engine.connect() as conn:
        current, _row, links = visible_network(conn, principal, network_id, max_links + 1)
        held = conn.execute(
            select(report_links.c.suspect_id, report_links.c.report_id)
            .where(report_links.c.network_id == current)
            .order_by(report_links.c.suspect_id, report_links.c.report_id)
        ).all()
        suppressed = _suppressed(conn, current, max_suppressed)
    truncated = len(links) > max_links
    links = links[:max_links]
    nodes: dict[str, GraphNode] = {}
    edges: list[GraphEdge] = []
    by_suspect: dict[str, list[int]] = {}
    for suspect, report in held:
        by_suspect.setdefault(str(suspect), []).append(int(report))
    for suspect, numbers in sorted(by_suspect.items()):
        nodes[suspect] = GraphNode(
            suspect, "suspect", suspect, f"suspect {suspect}: {len(numbers)} report(s) in network {current}"
        )
    holders: dict[str, set[str]] = {}
    for a, b, score, evidence in links:
        for end in (a, b):
            nodes.setdefault(end, GraphNode(end, "suspect", end, f"suspect {end}"))
        edges.append(
            GraphEdge(
                f"link:{a}:{b}",
                a,
                b,
                "link",
                f"{a} and {b} linked (score {float(score):g}): {_evidence_words(list(evidence))}",
                float(score),
            )
        )
        for kind, value, _weight in evidence:
            if str(value).startswith("…"):
                continue  # a count of further values, not a value
            node_id = _value_node_id(str(kind), str(value))
            nodes.setdefault(node_id, GraphNode(node_id, "value", f"{kind} {value}", f"{kind} {value}"))
            holders.setdefault(node_id, set()).update((a, b))
    for node_id, suspects_holding in sorted(holders.items()):
        value_words = nodes[node_id].label
        for suspect in sorted(suspects_holding):
            others = sorted(suspects_holding - {suspect})
            edges.append(
                GraphEdge(
                    f"holds:{suspect}:{node_id}",
                    suspect,
                    node_id,
                    "holds",
                    f"{suspect} holds {value_words}, as do {', '.join(others)}",
                )
            )
    omitted_reports = 0
    for suspect, numbers in sorted(by_suspect.items()):
        omitted_reports += max(0, len(numbers) - reports_per_suspect)
        for number in numbers[:reports_per_suspect]:
            node_id = f"R{number}"
            nodes[node_id] = GraphNode(node_id, "report", str(number), f"CyberTipline report {number}")
            edges.append(
                GraphEdge(f"report:{suspect}:{number}", suspect, node_id, "report", f"report {number} is {suspect}'s")
            )
    omitted = {k: v for k, v in (("links", int(truncated)), ("reports", omitted_reports)) if v}
    return NetworkGraph(
        current,
        network_id,
        tuple(nodes.values()),
        tuple(edges),
        suppressed,
        truncated or omitted_reports > 0,
        omitted,
    )


def _suppressed(conn: Connection, network_id: str, limit: int) -> tuple[dict[str, Any], ...]:
    """Suppressed values (shared too widely, not attributable, marked noise) seen in the network's reports."""
    sv, o = suppressed_values, identifier_observations
    seen_here = (
        select(o.c.kind, o.c.canonical)
        .join(report_links, report_links.c.report_id == o.c.report_id)
        .where(report_links.c.network_id == network_id, o.c.is_current.is_(True))
        .distinct()
        .subquery()
    )
    query = (
        select(sv.c.level, sv.c.kind, sv.c.value, sv.c.holders, sv.c.reason)
        .join(seen_here, and_(seen_here.c.kind == sv.c.kind, seen_here.c.canonical == sv.c.value))
        .order_by(sv.c.holders.desc(), sv.c.kind, sv.c.value)
        .limit(limit)
    )
    return tuple(dict(r._mapping) for r in conn.execute(query))


def _report_number(conn: Connection, raw: object, name: str, errors: dict[str, str]) -> int | None:
    text = "" if raw is None else str(raw).strip()
    if not text:
        errors[name] = "required: a CyberTipline report number"
        return None
    if not text.isdigit():
        errors[name] = f"{text!r} is not a report number (digits only)"
        return None
    number = int(text)
    if conn.execute(select(reports.c.report_id).where(reports.c.report_id == number)).first() is None:
        errors[name] = f"no report {number} in the store"
        return None
    return number


def override_link(
    engine: Engine,
    principal: Principal,
    action: str,
    reason: str,
    phone_region: str,
    *,
    kind: str | None = None,
    value: str | None = None,
    report_a: object = None,
    report_b: object = None,
) -> int:
    """Record a split, merge or noise override (applies from the next `tipfusion link`); its id.

    split: report_a stands alone; merge: report_a and report_b are one suspect; noise: the value of `kind` is no
    evidence. A phone, email, IP or device is read into the canonical form the linker compares, so "+91 98765-43210"
    marks the same value as the store's E.164. Refusals are `FieldErrors` under the form's field names.
    """
    with engine.connect() as conn:
        require_roles(conn, principal, OVERRIDING_ROLES, "link overrides", action="override")
        errors: dict[str, str] = {}
        if action not in OVERRIDE_ACTIONS:
            raise FieldErrors({"action": f"{action!r}: expected one of {', '.join(OVERRIDE_ACTIONS)}"})
        if not (reason or "").strip():
            errors["reason"] = "required: say why (it is kept with the override and in the audit log)"
        a = b = None
        canonical: str | None = None
        if action in ("split", "merge"):
            a = _report_number(conn, report_a, "report_a", errors)
        if action == "merge":
            b = _report_number(conn, report_b, "report_b", errors)
            if a is not None and a == b:
                errors["report_b"] = "a different report from the first"
        if action == "noise":
            if kind not in NOISE_KINDS:
                errors["kind"] = f"expected one of {', '.join(NOISE_KINDS)}"
            if not (value or "").strip():
                errors["value"] = "required: the value exactly as the linker shows it, or a phone/email/IP"
            elif kind in NOISE_KINDS:
                canonical = _canonical(conn, str(kind), str(value), phone_region, errors)
        if errors:
            raise FieldErrors(errors)
    from tipfusion.link.service import add_override

    return add_override(
        engine, principal.username, action, reason.strip(), kind=kind, value=canonical, report_a=a, report_b=b
    )


def _canonical(conn: Connection, kind: str, value: str, phone_region: str, errors: dict[str, str]) -> str | None:
    text = value.strip()
    if kind not in _CANONICAL_READINGS:
        return text
    try:
        found = [r for r in readings(text, kind, phone_region, esp_scopes(conn)) if r.kind == kind and r.valid]
    except TipfusionError as error:
        errors["value"] = str(error)
        return None
    if not found:
        errors["value"] = f"{text!r} does not read as a {kind}"
        return None
    return found[0].canonical


def build_referral_for(
    engine: Engine,
    settings: Settings,
    principal: Principal,
    target: str,
    output: Path,
    to: str | None = None,
    operation: str | None = None,
) -> BuiltReferral:
    """Build a referral package about a suspect or network (`refer.service.build_referral`) as the principal.

    The central unit refers (analysts and admins); a target or addressee the store does not hold is a `FieldErrors`
    on `target` / `to`, any other refusal on `target`.
    """
    with engine.connect() as conn:
        require_roles(conn, principal, OVERRIDING_ROLES, "build referral", action="refer")
    if not (target or "").strip():
        raise FieldErrors({"target": "required: a suspect (S…) or network (N…) id"})
    from tipfusion.refer.service import build_referral

    try:
        return build_referral(
            engine, settings, principal.username, target.strip(), output, (to or "").strip() or None, operation
        )
    except NotFound as error:
        name = "to" if "station or district" in str(error) else "target"
        raise FieldErrors({name: str(error)}) from error
    except TipfusionError as error:
        raise FieldErrors({"target": str(error)}) from error


def referral_folder(engine: Engine, principal: Principal, reference: str) -> tuple[str, Path]:
    """(reference, the sealed package's folder) of a referral the principal may open (NotFound otherwise, audited)."""
    with engine.connect() as conn:
        row = visible_referral(conn, principal, reference, action="download")
    return str(row.reference), Path(row.output_dir)


def ip_timeline(version: dict[str, Any]) -> list[dict[str, Any]]:
    """A report version's IP sightings in time order (undated last): address, port, event, time as received and in
    UTC, whose it is and whether it identifies a subscriber — the rows a report page lists."""
    sightings = [i for i in version.get("identifiers", []) if i.get("kind") == "ip"]
    return sorted(sightings, key=lambda i: (i.get("observed_at") is None, i.get("observed_at") or "", i.get("path")))
