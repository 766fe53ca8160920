"""Linking: each evidence kind, each noise kind, Leiden against a bridge, overrides, stable identities."""

from __future__ import annotations

import csv
import gc
import json
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import igraph
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text, update
from typer.testing import CliRunner

from tipfusion.config import Settings
from tipfusion.domain import SUSPECT_SIDE_SQL
from tipfusion.enrich.service import EnrichConfig, EnrichService
from tipfusion.ingest import IngestService
from tipfusion.link.extract import ip_key
from tipfusion.link.networks import communities, component_communities, find_networks
from tipfusion.link.quality import bcubed, naive_baseline
from tipfusion.link.records import Link, LinkInput
from tipfusion.link.service import LinkService, Outcome, add_override, apply_overrides
from tipfusion.link.settings import LinkSettings
from tipfusion.link.suspects import resolve_suspects
from tipfusion.store.current import current_report_versions
from tipfusion.store.links import resolve_id
from tipfusion.store.tables import (
    link_explanations,
    networks,
    report_links,
    report_versions,
    suppressed_values,
    suspects,
)
from tipfusion.synth import Noise, generate
from tipfusion.synth.reports import plan_reports
from tipfusion.synth.world import build_world

SETTINGS = LinkSettings()


def person(report: int, account: str, *values: tuple[str, str]) -> list[tuple[int, str, str]]:
    return [(report, "esp_user", account), *((report, kind, key) for kind, key in values)]


def suspects_of(data: LinkInput) -> dict[int, int]:
    return resolve_suspects(data, SETTINGS).label_of


@pytest.mark.parametrize("kind", sorted(SETTINGS.weights))
def test_one_shared_value_joins_exactly_when_its_weight_reaches_the_threshold(kind: str) -> None:
    """Whatever the weights say: a value two accounts share joins them alone at or above the threshold, with a
    shared name when that brings it there, and the link names the value's kind as its evidence."""
    data = LinkInput([1, 2], person(1, "esp/a", (kind, "shared")) + person(2, "esp/b", (kind, "shared")))
    clustering = resolve_suspects(data, SETTINGS)
    alone = SETTINGS.weights[kind] >= SETTINGS.threshold
    assert (clustering.label_of == {1: 1, 2: 1}) == alone
    assert not alone or any(kind in [e[0] for e in link.evidence] for link in clustering.links)
    named = replace(data, names={1: {("asha", "rao")}, 2: {("asha", "rao")}})
    assert (suspects_of(named) == {1: 1, 2: 1}) == (SETTINGS.weights[kind] + SETTINGS.same_name >= SETTINGS.threshold)


@pytest.mark.parametrize("kind", sorted(SETTINGS.caps))
def test_a_value_is_suppressed_exactly_above_its_cap(kind: str) -> None:
    cap = SETTINGS.caps[kind]
    for holders in (cap, cap + 1):
        reports = list(range(1, holders + 1))
        identity = [x for r in reports for x in person(r, f"esp/{r}", (kind, "shared"))]
        clustering = resolve_suspects(LinkInput(reports, identity), SETTINGS)
        assert any(s.kind == kind for s in clustering.suppressed) == (holders > cap), (kind, holders)


def test_same_esp_account_is_one_suspect() -> None:
    data = LinkInput([1, 2, 3], person(1, "esp/a") + person(2, "esp/a") + person(3, "esp/b"))
    assert suspects_of(data) == {1: 1, 2: 1, 3: 3}


def test_prior_report_reference_joins() -> None:
    data = LinkInput(
        [10, 20],
        [
            (10, "prior_report", "10"),
            (20, "prior_report", "20"),
            (20, "prior_report", "10"),
            (10, "esp_user", "x/1"),
            (20, "esp_user", "y/2"),
        ],
    )
    assert suspects_of(data) == {10: 10, 20: 10}


def test_family_phone_with_different_names_stays_apart() -> None:
    data = LinkInput(
        [1, 2],
        person(1, "esp/a", ("phone", "+919811012345")) + person(2, "esp/b", ("phone", "+919811012345")),
        names={1: {("asha", "rao")}, 2: {("ravi", "rao")}},
    )
    assert suspects_of(data) == {1: 1, 2: 2}
    same = replace(data, names={1: {("asha", "rao")}, 2: {("asha", "rao")}})
    assert suspects_of(same) == {1: 1, 2: 1}


def test_weak_evidence_alone_does_not_join() -> None:
    fixed = LinkInput(
        [1, 2], person(1, "esp/a", ("ip_fixed", "198.18.1.2")) + person(2, "esp/b", ("ip_fixed", "198.18.1.2"))
    )
    assert suspects_of(fixed) == {1: 1, 2: 2}  # a household address alone: maybe two people
    named = replace(fixed, names={1: {("asha", "rao")}, 2: {("asha", "rao")}})
    assert suspects_of(named) == {1: 1, 2: 1}
    screen = LinkInput(
        [1, 2], person(1, "esp/a", ("screen_name", "king007")) + person(2, "esp/b", ("screen_name", "king007"))
    )
    assert suspects_of(screen) == {1: 1, 2: 2}


def test_values_shared_by_too_many_accounts_are_suppressed_and_listed() -> None:
    reports = list(range(1, 12))
    identity = [x for r in reports for x in person(r, f"esp/{r}", ("email", "shared@example.com"))]
    clustering = resolve_suspects(LinkInput(reports, identity), SETTINGS)
    assert len(set(clustering.label_of.values())) == len(reports)
    (noise,) = clustering.suppressed
    assert (noise.kind, noise.value, noise.holders) == ("email", "shared@example.com", 11)
    assert "cap" in noise.reason


def test_ip_attribution_rules() -> None:
    when = datetime(2025, 3, 14, tzinfo=UTC)
    assert ip_key("198.19.0.7", "mobile_cgnat", None, when) is None  # CGNAT without port: nobody
    assert ip_key("198.19.0.7", "mobile_cgnat", 5000, None) is None  # without time: nobody
    assert ip_key("198.19.0.7", "mobile_cgnat", 5000, when) == ("ip_cgnat_port", f"198.19.0.7:5000@{when}")
    assert ip_key("198.18.1.2", "fixed", None, when) == ("ip_fixed", "198.18.1.2")
    assert ip_key("2001:db8:1:2::99", "mobile", None, when) == ("ip_v6_prefix", "2001:db8:1:2::/64")
    for network_type in ("hosting_vpn", "private", "reserved", "unknown", None):
        assert ip_key("203.0.113.5", network_type, 1, when) is None


# -- networks ----------------------------------------------------------------------------------------------------
def solo(reports: list[int]) -> LinkInput:
    return LinkInput(reports, [x for r in reports for x in person(r, f"esp/{r}")])


def test_group_and_messages_make_a_network() -> None:
    data = solo([1, 2, 3])
    data.groups = [(1, "esp/ring"), (2, "esp/ring")]
    data.recipients = [(3, "esp/2")]
    clustering, coarse = find_networks(data, {1: 1, 2: 2, 3: 3}, SETTINGS)
    assert clustering.label_of == {1: 1, 2: 1, 3: 1} and set(coarse) == {1, 2, 3}
    kinds = {e[0] for link in clustering.links for e in link.evidence}
    assert kinds == {"group", "message"}


def test_one_group_seen_as_chat_room_and_as_esp_group_counts_once() -> None:
    data = solo([1, 2, 3])
    # reports 1 and 2 name the ring twice: the account's ESP group and the incident's chat room
    data.groups = [(r, k) for r in (1, 2) for k in ("examplechat.test/ring-1", "examplechat for android/ring-1")]
    data.groups += [(3, "examplechat for android/ring-1")]  # report 3 only as a chat room: the same group
    clustering, _ = find_networks(data, {1: 1, 2: 2, 3: 3}, SETTINGS)
    scores = {(link.a, link.b): link.score for link in clustering.links}
    assert scores == {(1, 2): SETTINGS.group_weight, (1, 3): SETTINGS.group_weight, (2, 3): SETTINGS.group_weight}
    values = {e[1] for link in clustering.links for e in link.evidence}
    assert values == {"examplechat for android/ring-1 = examplechat.test/ring-1"}
    noise = SimpleNamespace(action="noise", kind="group", value=values.pop(), reason="a public room")
    apply_overrides(data, [noise])  # the label an analyst reads marks both ways of seeing the group
    assert data.groups == []

    data.groups = [(r, k) for r in (1, 2) for k in ("esp.test/ring-1", "esp.test/ring-2")]  # two groups: twice
    (link,) = find_networks(data, {1: 1, 2: 2, 3: 3}, SETTINGS)[0].links
    assert link.score == 2 * SETTINGS.group_weight


def test_one_rare_file_is_weak_two_are_a_link() -> None:
    data = solo([1, 2])
    data.files = [(1, "md5:a", False), (2, "md5:a", False)]
    assert find_networks(data, {1: 1, 2: 2}, SETTINGS)[0].label_of == {}
    data.files += [(1, "md5:b", False), (2, "md5:b", False)]
    assert find_networks(data, {1: 1, 2: 2}, SETTINGS)[0].label_of == {1: 1, 2: 1}


def test_viral_and_circulating_files_link_nobody() -> None:
    reports = list(range(1, 21))
    data = solo(reports)
    data.files = [(r, "md5:viral", r == 1) for r in reports] + [(r, "md5:known", False) for r in reports]
    data.files += [(r, "md5:known2", False) for r in reports]
    clustering, _ = find_networks(data, {r: r for r in reports}, SETTINGS)
    assert clustering.label_of == {}
    reasons = {s.value: s.reason for s in clustering.suppressed}
    assert "viral" in reasons["md5:viral"] and "circulating" in reasons["md5:known"]


def test_lead_lists_link_their_members() -> None:
    data = solo([1, 2])
    data.identity += [(1, "phone", "+447700900001"), (2, "phone", "+447700900002")]
    data.leads = [("LEAD-1", "phone", "+447700900001"), ("LEAD-1", "phone", "+447700900002")]
    assert find_networks(data, {1: 1, 2: 2}, SETTINGS)[0].label_of == {1: 1, 2: 1}


def test_a_lead_naming_a_family_phone_does_not_say_which_of_the_family() -> None:
    """The list names ring members' phones; one is a family phone two suspects hold (suspect resolution kept them
    apart). The list says one of them is listed, not which: half the weight each, too little to link alone."""
    data = solo([1, 2, 3, 4])
    data.groups = [(r, "esp/ring") for r in (1, 2, 3)]
    data.identity += [(1, "phone", "+447700900001"), (2, "phone", "+447700900002")]
    data.identity += [(3, "phone", "+447700900003"), (4, "phone", "+447700900003")]  # 3 and 4: one family phone
    data.leads = [("LEAD-1", "phone", f"+44770090000{n}") for n in (1, 2, 3)]
    clustering, _ = find_networks(data, {r: r for r in (1, 2, 3, 4)}, SETTINGS)
    assert clustering.label_of == {1: 1, 2: 1, 3: 1}  # 4 is not a member on the lead's word alone
    leads = {(link.a, link.b): w for link in clustering.links for kind, _, w in link.evidence if kind == "lead"}
    assert leads == {(1, 2): SETTINGS.lead_weight, (1, 3): SETTINGS.lead_weight / 2, (2, 3): SETTINGS.lead_weight / 2}


def test_leiden_keeps_two_rings_apart_across_one_bridge() -> None:
    ring_a, ring_b = list(range(1, 9)), list(range(11, 19))
    data = solo(ring_a + ring_b)
    data.groups = [(r, "g/a") for r in ring_a] + [(r, "g/b") for r in ring_b]
    data.recipients = [(8, "esp/11")]  # one message across
    clustering, coarse = find_networks(data, {r: r for r in ring_a + ring_b}, SETTINGS)
    assert len(set(coarse.values())) == 1  # one component …
    assert {clustering.label_of[r] for r in ring_a} == {1} and {clustering.label_of[r] for r in ring_b} == {11}


def test_a_bridge_keeps_two_rings_apart_however_large_the_store() -> None:
    """The bridge above in a store holding 200 other rings. Modularity over the whole graph weighed the bridge
    against every edge in the store, and joined the two rings once the store was a few hundred reports larger;
    each component is now split on its own."""
    ring_a, ring_b = list(range(1, 9)), list(range(11, 19))
    others = [list(range(1000 + 10 * i, 1006 + 10 * i)) for i in range(200)]
    everyone = ring_a + ring_b + [r for ring in others for r in ring]
    data = solo(everyone)
    data.groups = [(r, "g/a") for r in ring_a] + [(r, "g/b") for r in ring_b]
    data.groups += [(r, f"g/other{i}") for i, ring in enumerate(others) for r in ring]
    data.recipients = [(8, "esp/11")]
    clustering, _ = find_networks(data, {r: r for r in everyone}, SETTINGS)
    assert {clustering.label_of[r] for r in ring_a} == {1} and {clustering.label_of[r] for r in ring_b} == {11}
    assert all({clustering.label_of[r] for r in ring} == {ring[0]} for ring in others)


@pytest.mark.parametrize("share", [0.9, 1.1])
def test_two_groups_are_one_network_when_their_ties_reach_the_density_for_every_pair_across(share: float) -> None:
    """Two cliques of four suspects (3 bits each tie) and one tie between them: one network when that tie holds more
    than `min_density` bits for each of the 16 pairs across, two otherwise."""
    quartets = [(1, 2, 3, 4), (11, 12, 13, 14)]
    links = [Link(a, b, 3.0, ()) for q in quartets for i, a in enumerate(q) for b in q[i + 1 :]]
    links.append(Link(4, 11, share * 16 * SETTINGS.min_density, ()))
    label_of, _ = communities(links, SETTINGS)
    together = share > 1
    assert (label_of[11] == label_of[1]) is together
    assert {label_of[s] for s in quartets[0]} == {1} and {label_of[s] for s in quartets[1]} == {1 if together else 11}


@st.composite
def suspect_graphs(draw: st.DrawFn, first: int) -> list[Link]:
    """Ties among up to 12 suspects numbered from `first`, with weights an edge can have."""
    size = draw(st.integers(2, 12))
    pairs = draw(
        st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)), min_size=1, max_size=40).map(
            lambda drawn: sorted({(min(p), max(p)) for p in drawn if p[0] != p[1]})
        )
    )
    weights = st.sampled_from([2.0, 2.5, 3.0, 4.5, 6.0, 10.0])
    return [Link(first + a, first + b, draw(weights), ()) for a, b in pairs]


@settings(max_examples=150, deadline=None)
@given(suspect_graphs(1), suspect_graphs(100))
def test_a_component_s_networks_do_not_depend_on_the_rest_of_the_graph(here: list[Link], elsewhere: list[Link]) -> None:
    """What a batch elsewhere adds cannot move a network here: re-linking only the components a batch touches
    gives what a rebuild gives."""
    alone, alone_kept = communities(here, SETTINGS)
    together, together_kept = communities(elsewhere + here, SETTINGS)
    assert {s: n for s, n in together.items() if s < 100} == alone
    assert [link for link in together_kept if link.a < 100] == alone_kept


@st.composite
def small_components(draw: st.DrawFn) -> list[Link]:
    """A connected suspect graph of 2 to 8 suspects (a chain through them all, then any other ties), each tie at
    least `edge_threshold` bits."""
    size = draw(st.integers(2, 8))
    order = draw(st.permutations(range(1, size + 1)))
    pairs = {(min(a, b), max(a, b)) for a, b in pairwise(order)}
    pairs |= {(a, b) for a, b in draw(st.lists(st.tuples(st.integers(1, size), st.integers(1, size)))) if a < b}
    weights = st.floats(SETTINGS.edge_threshold, 12.0)
    return [Link(a, b, draw(weights), ()) for a, b in sorted(pairs)]


@settings(max_examples=200, deadline=None)
@given(small_components())
def test_a_component_of_up_to_eight_suspects_is_the_one_network_leiden_finds(links: list[Link]) -> None:
    """What `component_communities` takes without asking Leiden is what Leiden finds: all of it one network."""
    vertices = sorted({s for link in links for s in (link.a, link.b)})
    graph = igraph.Graph(n=len(vertices), edges=[(vertices.index(link.a), vertices.index(link.b)) for link in links])
    found = graph.community_leiden(
        objective_function="CPM",
        weights=[link.score for link in links],
        resolution=SETTINGS.min_density,
        n_iterations=-1,
    )
    assert len(set(found.membership)) == 1
    assert component_communities(links, SETTINGS, vertices[0]) == [vertices]


def test_bcubed_and_baseline() -> None:
    truth = {1: "a", 2: "a", 3: "b", 4: "b"}
    assert bcubed(truth, truth) == (1.0, 1.0, 1.0)
    lumped = bcubed({i: 0 for i in truth}, truth)
    assert lumped[0] == 0.5 and lumped[1] == 1.0
    assert naive_baseline([1, 2, 3], [(1, "ip", "x"), (2, "ip", "x")]) == {1: 1, 2: 1, 3: 3}


def test_determinism() -> None:
    data = solo(list(range(1, 30)))
    data.groups = [(r, f"g/{r % 3}") for r in range(1, 30)]
    first = find_networks(data, {r: r for r in range(1, 30)}, SETTINGS)[0].label_of
    assert all(find_networks(data, {r: r for r in range(1, 30)}, SETTINGS)[0].label_of == first for _ in range(3))


# -- the service ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def split_batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """One synthetic batch, and the same reports split into two batches (arriving one after the other)."""
    root = tmp_path_factory.mktemp("linkbatch")
    full = root / "full"
    generate(full, 160, seed=21)
    return full, *halves(full, root)


def halves(full: Path, root: Path) -> tuple[Path, Path]:
    """A generated batch's reports split in two batches under `root` (each file goes with its report)."""
    first, second = root / "first", root / "second"
    for target in (first, second):
        (target / "reports").mkdir(parents=True)
        (target / "files").mkdir()
    reports = sorted((full / "reports").glob("*.xml"))
    half = {p.stem for p in reports[: len(reports) // 2]}
    for path in reports:
        (first if path.stem in half else second).joinpath("reports", path.name).write_bytes(path.read_bytes())
    for path in (full / "files").glob("*.xml"):
        target = first if any(f"<reportId>{r}</reportId>" in path.read_text() for r in half) else second
        target.joinpath("files", path.name).write_bytes(path.read_bytes())
    return first, second


def _pipeline(engine: Engine, db_url: str, batch: Path, reference: Path) -> None:
    IngestService(engine, Settings(database_url=db_url), "tester").ingest_paths([batch])
    EnrichService(
        engine,
        EnrichConfig(
            (reference / "demo-asn.mmdb", reference / "demo-city.mmdb"),
            reference / "demo-isps.csv",
            reference / "demo-warninglist.csv",
        ),
        "tester",
    ).run()


def _mapping(engine: Engine) -> dict[int, tuple[str, str | None]]:
    with engine.connect() as conn:
        return {r.report_id: (r.suspect_id, r.network_id) for r in conn.execute(select(report_links))}


def test_incremental_batches_give_the_same_identities_as_a_rebuild(
    engine: Engine, db_url: str, split_batch: tuple[Path, Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    full, first, second = split_batch
    reference = full / "reference"
    _pipeline(engine, db_url, first, reference)
    LinkService(engine, "tester").run()
    early = _mapping(engine)
    _pipeline(engine, db_url, second, reference)
    summary = LinkService(engine, "tester").run()
    incremental = _mapping(engine)
    assert set(early) < set(incremental)
    # names that disappeared when suspects merged still resolve
    with engine.connect() as conn:
        for report, (suspect, _) in early.items():
            assert resolve_id(conn, suspect) == incremental[report][0] or suspect in {
                s for s, _ in incremental.values()
            }
    rebuild_url = f"sqlite:///{tmp_path_factory.mktemp('rebuild') / 'r.db'}"
    from tipfusion.store.db import make_engine, upgrade

    rebuild = make_engine(rebuild_url)
    upgrade(rebuild)
    _pipeline(rebuild, rebuild_url, full, reference)
    LinkService(rebuild, "tester").run()
    assert _mapping(rebuild) == incremental
    assert summary.suspects == len({s for s, _ in incremental.values()})
    # same input, same output
    LinkService(engine, "tester").run()
    assert _mapping(engine) == incremental


RESULT_TABLES = {
    "report_links": ("report_id", "suspect_id", "network_id"),
    "suspects": ("suspect_id", "reports", "network_id", "component_id"),
    "networks": ("network_id", "suspects", "reports", "summary"),
    "link_explanations": ("level", "owner_id", "a", "b", "score", "evidence"),
    "suppressed_values": ("level", "kind", "value", "holders", "reason"),
}


def _results(engine: Engine) -> dict[str, list[str]]:
    """Each result table's rows (without run and row ids), in a comparable form."""
    with engine.connect() as conn:
        tables = {t.name: t for t in (report_links, suspects, networks, link_explanations, suppressed_values)}
        return {
            name: sorted(repr(tuple(row)) for row in conn.execute(select(*(tables[name].c[c] for c in columns))))
            for name, columns in RESULT_TABLES.items()
        }


def test_a_rerun_writes_only_what_changed_and_ends_as_a_whole_rewrite_would(
    engine: Engine, db_url: str, split_batch: tuple[Path, Path, Path]
) -> None:
    full, first, second = split_batch
    _pipeline(engine, db_url, first, full / "reference")
    early = LinkService(engine, "tester").run()
    assert early.rows_written["report_links"] == (0, len(_mapping(engine)))
    again = LinkService(engine, "tester").run()
    assert set(again.rows_written.values()) == {(0, 0)}  # nothing changed, nothing written
    with engine.connect() as conn:
        assert set(conn.execute(select(report_links.c.run_id)).scalars()) == {early.run_id}
    before = _mapping(engine)

    _pipeline(engine, db_url, second, full / "reference")
    later = LinkService(engine, "tester").run()
    after = _mapping(engine)
    with engine.connect() as conn:
        stamped = dict(conn.execute(select(report_links.c.report_id, report_links.c.run_id)).all())
    changed = {r for r in after if before.get(r) != after[r]}
    assert changed and {r for r, run in stamped.items() if run == later.run_id} == changed
    assert later.rows_written["report_links"][1] == len(changed) < len(after)
    written = _results(engine)
    with engine.begin() as conn:  # the same store written whole
        for table in (report_links, suspects, networks, link_explanations, suppressed_values):
            conn.execute(table.delete())
    LinkService(engine, "tester").run()
    assert _results(engine) == written


def test_no_cycle_collection_walks_the_outcome_while_it_lives(
    engine: Engine, db_url: str, split_batch: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A collection walks every container alive: while the outcome lived (millions of them at 1 M reports) each of
    two walks found nothing and cost ~1 s. The run collects once, after the outcome is stored and let go."""
    full, first, _ = split_batch
    _pipeline(engine, db_url, first, full / "reference")
    collect = gc.collect
    outcome_alive: list[bool] = []

    def watched(*generation: int) -> int:
        outcome_alive.append(any(isinstance(found, Outcome) for found in gc.get_objects()))
        return collect(*generation)

    monkeypatch.setattr(gc, "collect", watched)
    summary = LinkService(engine, "tester").run()
    assert summary.suspects and outcome_alive and not any(outcome_alive)
    assert gc.isenabled()


def test_each_network_counts_its_reports_per_isp_and_place_as_its_sightings_say(
    engine: Engine, db_url: str, split_batch: tuple[Path, Path, Path]
) -> None:
    """The database counts them (`store.links.network_isps_and_places`); here they are counted again from the
    sightings one by one: distinct reports per ISP, and per city on a fixed line, the five largest of each (ties
    by name)."""
    full, _, _ = split_batch
    _pipeline(engine, db_url, full, full / "reference")
    LinkService(engine, "tester").run()
    isps: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    places: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    with engine.connect() as conn:
        network_of = {r: n for r, (_, n) in _mapping(engine).items() if n}
        sightings = text(  # the reported side's current IP sightings in the networks' reports, one row each
            "SELECT o.report_id, e.isp_name, e.city_estimate, e.network_type FROM report_links l "
            "JOIN identifier_observations o ON o.report_id = l.report_id AND o.kind = 'ip' AND o.is_current "
            f"JOIN ip_enrichments e ON e.ip = o.canonical WHERE l.network_id IS NOT NULL AND {SUSPECT_SIDE_SQL}"
        )
        for report, isp, city, network_type in conn.execute(sightings):
            if isp:
                isps[network_of[report]][isp].add(report)
            if city and network_type == "fixed":
                places[network_of[report]][city].add(report)
        summaries = dict(conn.execute(select(networks.c.network_id, networks.c.summary)).all())

    def top(found: dict[str, set[int]]) -> dict[str, int]:
        return dict(sorted(((k, len(v)) for k, v in found.items()), key=lambda kv: (-kv[1], kv[0]))[:5])

    assert summaries and any(isps.values()) and any(places.values())
    for network, summary in summaries.items():
        assert summary["isps"] == top(isps[network])
        assert summary["places_estimated"] == top(places[network])


def test_each_network_counts_its_reports_their_esps_and_span_as_its_reports_say(
    engine: Engine, db_url: str, split_batch: tuple[Path, Path, Path]
) -> None:
    """The database counts them per ESP (`store.links.network_reports_per_esp`); here they are counted again from the
    networks' reports one by one: reports, reports per ESP (none or empty: "unknown"), first and last incident."""
    full, _, _ = split_batch
    _pipeline(engine, db_url, full, full / "reference")
    with engine.begin() as conn:  # reports without an incident time or an ESP's name, as some ESPs send them
        ids = sorted(conn.execute(select(report_versions.c.report_id)).scalars())
        conn.execute(update(report_versions).where(report_versions.c.report_id.in_(ids[::4])).values(incident_at=None))
        conn.execute(update(report_versions).where(report_versions.c.report_id.in_(ids[1::5])).values(esp_name=""))
        conn.execute(update(report_versions).where(report_versions.c.report_id.in_(ids[2::7])).values(esp_name=None))
    LinkService(engine, "tester").run()
    reports: dict[str, list[Any]] = defaultdict(list)
    with engine.connect() as conn:
        network_of = {r: n for r, (_, n) in _mapping(engine).items() if n}
        for row in conn.execute(select(current_report_versions)):
            if row.report_id in network_of:
                reports[network_of[row.report_id]].append(row)
        summaries = dict(conn.execute(select(networks.c.network_id, networks.c.summary)).all())
    assert summaries and set(summaries) == set(reports)
    for network, summary in summaries.items():
        times = [r.incident_at for r in reports[network] if r.incident_at is not None]
        assert summary["reports"] == len(reports[network])
        assert summary["esps"] == dict(Counter(r.esp_name or "unknown" for r in reports[network]))
        assert summary["first_incident"] == (min(times).isoformat() if times else None)
        assert summary["last_incident"] == (max(times).isoformat() if times else None)
    assert any("unknown" in s["esps"] for s in summaries.values())
    assert any(None in {r.incident_at for r in found} and len(found) > 1 for found in reports.values())


def test_overrides_survive_reruns_and_are_audited(
    engine: Engine, db_url: str, split_batch: tuple[Path, Path, Path]
) -> None:
    full, _, _ = split_batch
    _pipeline(engine, db_url, full, full / "reference")
    LinkService(engine, "tester").run()
    before = _mapping(engine)
    by_suspect: dict[str, list[int]] = {}
    for report, (suspect, _) in before.items():
        by_suspect.setdefault(suspect, []).append(report)
    multi = next(reports for reports in by_suspect.values() if len(reports) > 1)
    loner_a, loner_b = [reports[0] for reports in by_suspect.values() if len(reports) == 1][:2]
    add_override(engine, "analyst", "split", "different person per ISP answer", report_a=max(multi))
    add_override(engine, "analyst", "merge", "same handset seized", report_a=loner_a, report_b=loner_b)
    add_override(engine, "analyst", "noise", "office switchboard", kind="phone", value="+911100000000")
    for _ in range(2):
        LinkService(engine, "tester").run()
        after = _mapping(engine)
        assert after[max(multi)][0] == f"S{max(multi)}"
        assert after[loner_a][0] == after[loner_b][0] == f"S{min(loner_a, loner_b)}"
    with engine.connect() as conn:
        assert resolve_id(conn, f"S{max(loner_a, loner_b)}") == f"S{min(loner_a, loner_b)}"
        noise = conn.execute(select(suppressed_values).where(suppressed_values.c.value == "+911100000000")).one()
        assert "analyst" in noise.reason
        from tipfusion.audit import verify
        from tipfusion.store.tables import audit_events

        actions = set(conn.execute(select(audit_events.c.action)).scalars())
        assert {"link.override.split", "link.override.merge", "link.override.noise", "link.completed"} <= actions
        assert verify(conn).ok


def test_cli_link_and_exports(
    db_url: str, engine: Engine, split_batch: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    from tipfusion.cli.main import app

    full, _, _ = split_batch
    _pipeline(engine, db_url, full, full / "reference")
    runner = CliRunner()
    result = runner.invoke(app, ["--database", db_url, "link"])
    assert result.exit_code == 0, result.output
    assert "Link summary" in result.output and "suppressed" in result.output
    out = tmp_path / "reports.csv"
    assert runner.invoke(app, ["--database", db_url, "export", "reports", "--output", str(out)]).exit_code == 0
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0])[:3] == ["report_id", "suspect_id", "network_id"] and len(rows) == 160
    assert any(r["network_id"] == "" for r in rows) and any(r["network_id"] for r in rows)
    nets = tmp_path / "networks.json"
    assert (
        runner.invoke(
            app, ["--database", db_url, "export", "networks", "--format", "json", "--output", str(nets)]
        ).exit_code
        == 0
    )
    networks = json.loads(nets.read_text())
    assert networks and networks[0]["links_by_kind"] and networks[0]["esps"]
    shown = runner.invoke(app, ["--database", db_url, "network", "show", networks[0]["network_id"]])
    assert shown.exit_code == 0 and "held together by" in shown.output
    sus = tmp_path / "suspects.csv"
    assert runner.invoke(app, ["--database", db_url, "export", "suspects", "--output", str(sus)]).exit_code == 0
    assert runner.invoke(app, ["--database", db_url, "override", "list"]).exit_code == 0


def test_verified_values_weigh_more() -> None:
    # a shared screen name plus a fixed-line address: 2 + 5 < 6 … no, 7 ≥ 6; use phone-with-different-names instead
    base = LinkInput(
        [1, 2],
        person(1, "esp/a", ("phone", "+919811012345")) + person(2, "esp/b", ("phone", "+919811012345")),
        names={1: {("asha", "rao")}, 2: {("ravi", "rao")}},
    )
    assert suspects_of(base) == {1: 1, 2: 2}  # 7 - 6 = 1
    strict = LinkSettings(verified_bonus=5.0)
    vouched = replace(base, verified={(1, "phone", "+919811012345"), (2, "phone", "+919811012345")})
    assert resolve_suspects(vouched, strict).label_of == {1: 1, 2: 1}  # 7 + 5 - 6 = 6
    half = replace(base, verified={(1, "phone", "+919811012345")})
    assert resolve_suspects(half, strict).label_of == {1: 1, 2: 2}  # only one side verified: no bonus


def test_a_household_line_alone_makes_no_network_but_adds_to_other_evidence() -> None:
    """One fixed line the same day is one address, maybe two people living there: it corroborates, never links."""
    data = solo([1, 2, 3])
    data.colocations = [(1, "198.18.1.2@2025-03-14"), (2, "198.18.1.2@2025-03-14"), (3, "198.18.1.2@2025-03-15")]
    assert find_networks(data, {1: 1, 2: 2, 3: 3}, SETTINGS)[0].label_of == {}
    data.files = [(1, "md5:a", False), (2, "md5:a", False)]  # nor with one file: neither stands alone
    assert find_networks(data, {1: 1, 2: 2, 3: 3}, SETTINGS)[0].label_of == {}
    data.leads = [("LEAD-1", "phone", "+447700900001"), ("LEAD-1", "phone", "+447700900002")]
    data.identity += [(1, "phone", "+447700900001"), (2, "phone", "+447700900002")]
    clustering, _ = find_networks(data, {1: 1, 2: 2, 3: 3}, SETTINGS)
    assert clustering.label_of == {1: 1, 2: 1}
    (link,) = clustering.links
    assert [kind for kind, _, _ in link.evidence] == ["colocation", "lead", "rare_file"]
    assert link.score == SETTINGS.colocation_weight + SETTINGS.lead_weight + SETTINGS.rare_file_weight


# -- issue 17 §3: the network's own structure ------------------------------------------------------------------------
def ring_with_a_hub() -> LinkInput:
    """Suspects 1-4 share the ring's group; 2 and 3 wrote to the ring's hub account (reported by nobody); 1 and 2
    hold the ring's file md5:r; 5 is a member seen once: no group, the file, and a message to the hub."""
    data = solo([1, 2, 3, 4, 5])
    data.groups = [(r, "esp/ring") for r in (1, 2, 3, 4)]
    data.recipients = [(2, "esp/hub"), (3, "esp/hub"), (5, "esp/hub")]
    data.files = [(r, "md5:r", False) for r in (1, 2, 5)]
    return data


def test_a_stray_member_joins_through_one_ring_file_and_the_ring_s_hub() -> None:
    clustering, _ = find_networks(ring_with_a_hub(), {r: r for r in range(1, 6)}, SETTINGS)
    assert clustering.label_of == dict.fromkeys(range(1, 6), 1)
    joining = [link for link in clustering.links if 5 in (link.a, link.b)]
    assert {(link.a, link.b) for link in joining} == {(1, 5), (2, 5), (3, 5)}  # every member it reaches, explained
    words = {value for link in joining for kind, value, _ in link.evidence if kind == "joins"}
    assert words == {"3 members of the network, 2.5 bits in all (each value once, as rare as outside it)"}
    kinds = {kind for link in joining for kind, _, _ in link.evidence}
    assert kinds == {"rare_file", "contact", "joins"}


def test_a_stray_tie_to_one_member_or_one_kind_of_tie_joins_nothing() -> None:
    only_the_hub = ring_with_a_hub()
    only_the_hub.files = [(r, "md5:r", False) for r in (1, 2)]  # 5 wrote to the hub, holds no ring file
    assert 5 not in find_networks(only_the_hub, {r: r for r in range(1, 6)}, SETTINGS)[0].label_of
    only_the_file = ring_with_a_hub()
    only_the_file.recipients = [(2, "esp/hub"), (3, "esp/hub")]
    assert 5 not in find_networks(only_the_file, {r: r for r in range(1, 6)}, SETTINGS)[0].label_of
    one_member = ring_with_a_hub()  # file and hub, but both only through member 2
    one_member.recipients = [(2, "esp/hub"), (5, "esp/hub")]
    one_member.files = [(r, "md5:r", False) for r in (2, 5)]
    assert 5 not in find_networks(one_member, {r: r for r in range(1, 6)}, SETTINGS)[0].label_of


def test_writing_to_one_account_alone_makes_no_network_and_a_busy_account_is_listed() -> None:
    data = solo(list(range(1, 21)))
    data.recipients = [(1, "esp/kid"), (2, "esp/kid")]
    assert find_networks(data, {r: r for r in range(1, 21)}, SETTINGS)[0].label_of == {}
    data.recipients = [(r, "esp/bot") for r in range(1, 21)]
    suppressed = find_networks(data, {r: r for r in range(1, 21)}, SETTINGS)[0].suppressed
    assert [(s.kind, s.value, s.holders) for s in suppressed] == [("contact", "esp/bot", 20)]


def test_two_strangers_sharing_two_moderately_common_files_are_no_network() -> None:
    """Two files each held by five suspects are not the pair's own: a network standing on files alone needs files no
    one outside it holds; the same two files held by the pair alone still link them."""
    data = solo(list(range(1, 10)))
    data.files = [(r, "md5:a", False) for r in (1, 2, 3, 4, 5)] + [(r, "md5:b", False) for r in (1, 2, 6, 7, 8)]
    assert find_networks(data, {r: r for r in range(1, 10)}, SETTINGS)[0].label_of == {}
    data.files = [(r, key, False) for r in (1, 2) for key in ("md5:a", "md5:b")]
    assert find_networks(data, {r: r for r in range(1, 10)}, SETTINGS)[0].label_of == {1: 1, 2: 1}


def test_the_generator_s_stray_members_join_their_own_ring_and_no_other(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    """The "ring strays" scenario end to end: a member reported once, without the ring's group, with one ring file
    and a message to the ring's hub (an account no report is about) is found in the ring's network."""
    noise = Noise(stray_share=1.0, lone_pair_share=0.3)
    world = build_world(200, 21, noise)
    strays = {p.person_id: p for p in world.persons if p.stray_file}
    planned = [r for r in plan_reports(world, 200, 21, noise) if r.person.person_id in strays]
    assert len(planned) == len(strays) >= 2  # seen once each
    hubs = {n.network_id: n.hub for n in world.networks}
    for report in planned:
        hub = hubs[report.person.network or ""]
        assert report.group is None and [f.label for f in report.files] == [report.person.stray_file]
        assert hub is not None and report.recipient == (hub.user_id, hub.screen_name, None)

    batch = tmp_path / "strays"
    generate(batch, 200, seed=21, noise=noise)
    _pipeline(engine, db_url, batch, batch / "reference")
    LinkService(engine, "tester").run()
    found = _mapping(engine)
    ring_of = {int(r["report_id"]): r["network_id"] for r in csv.DictReader((batch / "truth.csv").open())}
    joined = []
    for report in planned:
        ring = {found[r][1] for r, n in ring_of.items() if n == report.network and r != report.report_id} - {None}
        network = found[report.report_id][1]
        assert network is None or {network} == ring, report.person.person_id  # its own ring's, never another's
        if network is not None:
            joined.append(report.report_id)
    assert joined  # without issue 17 §3 no stray is reached: no tie of theirs stands alone
    with engine.connect() as conn:
        evidence = [
            row.evidence
            for row in conn.execute(select(link_explanations).where(link_explanations.c.level == "network"))
            if f"S{joined[0]}" in (row.a, row.b)  # seen once: the stray is the suspect named after its report
        ]
    assert evidence and all(any(kind == "joins" for kind, _, _ in e) for e in evidence)
