"""`tipfusion link --incremental` (`tipfusion.link.incremental`): after a batch it links again only the regions the
batch touched, and its answer is the one a full link weighed by the same model gives (on both databases)."""

from __future__ import annotations

import random
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text

from tests.conftest import StoreTemplates
from tests.test_cli_errors import one_error, tipfusion_cli
from tests.test_store_columnar import watched
from tipfusion.config import Settings
from tipfusion.enrich.demo import build_demo_reference
from tipfusion.enrich.service import EnrichConfig, EnrichService
from tipfusion.errors import TipfusionError
from tipfusion.ingest import IngestService
from tipfusion.link import service
from tipfusion.link.columns import stable_hashes
from tipfusion.link.evidence import Disagreement
from tipfusion.link.extract import load_input
from tipfusion.link.incremental import Basis, Previous, SplitChanged, relink
from tipfusion.link.locality import EvidenceState, report_digests
from tipfusion.link.names import NameStats
from tipfusion.link.networks import find_networks
from tipfusion.link.records import Clustering, LinkInput, LinkModel
from tipfusion.link.service import LinkService, LinkSummary, _constrain, add_override, link_changes
from tipfusion.link.settings import LinkSettings
from tipfusion.link.suspects import resolve_suspects
from tipfusion.store import link_inputs
from tipfusion.store.db import make_engine, snapshot, upgrade
from tipfusion.store.tables import link_runs
from tipfusion.synth import generate

RESULTS = ("report_links", "suspects", "networks", "link_explanations", "suppressed_values")
BASIS = ("link_report_digests", "link_value_holders")  # what the next incremental link compares with


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A generated batch split in two: most reports first (with the files, leads), the newest sixth after."""
    work = tmp_path_factory.mktemp("incremental")
    generate(work / "all", 600, seed=23)
    first, later = work / "first", work / "later"
    shutil.copytree(work / "all", first, ignore=shutil.ignore_patterns("reports"))
    (first / "reports").mkdir()
    (later / "reports").mkdir(parents=True)
    reports = sorted((work / "all" / "reports").iterdir())
    cut = len(reports) * 5 // 6
    for at, path in enumerate(reports):
        shutil.copy(path, (first if at < cut else later) / "reports" / path.name)
    return first, later, work / "reference"


def ingest_and_enrich(engine: Engine, path: Path, reference_folder: Path) -> None:
    IngestService(engine, Settings(database_url=str(engine.url)), "tester").ingest_paths([path])
    reference = build_demo_reference(reference_folder)
    EnrichService(
        engine, EnrichConfig(tuple(reference.databases), reference.isp_table, reference.warninglist), "tester"
    ).run()


@pytest.fixture
def first_in(db_url: str, store_templates: StoreTemplates, batches: tuple[Path, Path, Path]) -> Iterator[Engine]:
    """The test's own store holding the first batch, ingested and enriched, not linked (built once per worker and
    database, and copied)."""
    first, _, reference = batches
    engine, _ = store_templates.prepare(
        db_url, "incremental-first", lambda built, _url, _folder: ingest_and_enrich(built, first, reference)
    )
    yield engine
    engine.dispose()


def results(engine: Engine, tables: tuple[str, ...] = RESULTS) -> dict[str, set[tuple[Any, ...]]]:
    """The link tables' rows, without the columns that say which run wrote them."""
    found = {}
    with engine.connect() as conn:
        for table in tables:
            rows = conn.execute(text(f"SELECT * FROM {table}")).mappings()
            found[table] = {
                tuple((k, repr(v)) for k, v in sorted(row.items()) if k not in {"id", "run_id"}) for row in rows
            }
    return found


def last_basis(engine: Engine) -> Basis:
    with engine.connect() as conn:
        kept = conn.execute(select(link_runs.c.basis).order_by(link_runs.c.id.desc()).limit(1)).scalar_one()
    return Basis.of_json(kept)


def test_a_batch_is_linked_as_a_full_link_with_the_same_model_links_it(
    first_in: Engine, batches: tuple[Path, Path, Path]
) -> None:
    engine, (_, later, reference) = first_in, batches
    full = LinkService(engine, "tester").run()
    assert full.relinked is None and full.linked_everything_because is None
    model = last_basis(engine).model

    ingest_and_enrich(engine, later, reference)
    step = LinkService(engine, "tester").run(incremental=True)
    assert step.linked_everything_because is None
    assert step.relinked is not None and step.changed is not None
    assert 100 <= step.changed <= step.relinked < step.reports  # the new reports (and those they cite), not all
    assert last_basis(engine).model == model and last_basis(engine).measured_by == full.run_id
    after_step = results(engine)
    basis_after_step = results(engine, BASIS)  # written as what changed since the full link (`replace_mapping`)

    # a full link of the same store weighed by the same model changes nothing
    again = LinkService(engine, "tester").run(model=model)
    assert all(written == (0, 0) for table, written in again.rows_written.items() if table in RESULTS), (
        again.rows_written
    )
    assert results(engine) == after_step
    assert results(engine, BASIS) == basis_after_step and all(basis_after_step.values())
    assert (again.suspects, again.networks, again.suppressed) == (step.suspects, step.networks, step.suppressed)

    # nothing changed since: an incremental link links nothing again and writes nothing
    idle = LinkService(engine, "tester").run(incremental=True)
    assert (idle.relinked, idle.changed) == (0, 0)
    assert results(engine) == after_step


def test_an_incremental_link_links_everything_when_it_has_nothing_to_build_on(first_in: Engine) -> None:
    engine = first_in

    def step(settings: LinkSettings | None = None) -> LinkSummary:
        return LinkService(engine, "tester", settings).run(incremental=True)

    assert step().linked_everything_because == "no earlier link to build on"
    assert step().linked_everything_because is None
    assert "link settings changed" in str(step(LinkSettings(threshold=7.0)).linked_everything_because)
    assert "link settings changed" in str(step().linked_everything_because)  # and back
    with engine.connect() as conn:
        report = conn.execute(text("SELECT MIN(report_id) FROM report_links")).scalar_one()
    add_override(engine, "analyst", "split", "a shared handset, not one person", report_a=report)
    assert "overrides changed" in str(step().linked_everything_because)
    assert step().linked_everything_because is None


DEFAULTS = LinkSettings()
TIGHT = replace(DEFAULTS, caps=dict.fromkeys(DEFAULTS.caps, 3), group_cap=3, file_cap=3, contact_cap=1)


@pytest.fixture(scope="module")
def store_input(batches: tuple[Path, Path, Path], tmp_path_factory: pytest.TempPathFactory) -> LinkInput:
    first, later, reference = batches
    url = f"sqlite:///{tmp_path_factory.mktemp('relink') / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    ingest_and_enrich(engine, first, reference)
    ingest_and_enrich(engine, later, reference)
    with snapshot(engine) as conn:
        data = load_input(conn)
    engine.dispose()
    return data


def changed(data: LinkInput, suspect_of: dict[int, int], seed: int) -> LinkInput:
    """The store after changes: some reports gone (purged; among them every report of some suspects), some that lost
    an identity value or gained one of another report's (an ISP's answer), some whose values all changed (a new
    version on another account: off their suspect), the rest as they were."""
    chance = random.Random(seed)
    members: dict[int, list[int]] = defaultdict(list)
    for report, suspect in suspect_of.items():
        members[suspect].append(report)
    several = sorted(suspect for suspect, reports in members.items() if len(reports) > 1)
    gone = set(chance.sample(data.reports, len(data.reports) // 40))
    gone.update(report for suspect in chance.sample(several, 3) for report in members[suspect])
    moved = set(chance.sample(sorted({r for s in several for r in members[s]} - gone), 10))
    rows = [row for row in data.identity if row[0] not in gone and row[0] not in moved]
    lost = set(chance.sample(range(len(rows)), len(rows) // 30))
    kept = [row for at, row in enumerate(rows) if at not in lost]
    kept += [(report, "email", f"moved-{report}@example.test") for report in sorted(moved)]
    donors = chance.sample(kept, len(kept) // 50)
    gained = [(chance.choice(data.reports), kind, key) for _, kind, key in donors]
    gained = [row for row in gained if row[0] not in gone]
    return LinkInput(
        reports=[r for r in data.reports if r not in gone],
        identity=kept + gained,
        names={r: v for r, v in data.names.items() if r not in gone},
        ages={r: v for r, v in data.ages.items() if r not in gone},
        born={r: v for r, v in data.born.items() if r not in gone},
        groups=[row for row in data.groups if row[0] not in gone],
        files=[row for row in data.files if row[0] not in gone],
        known_files=dict(data.known_files),
        recipients=[row for row in data.recipients if row[0] not in gone],
        leads=list(data.leads),
        verified=[row for row in data.verified if row[0] not in gone],
        colocations=[row for row in data.colocations if row[0] not in gone],
        suppressed=list(data.suppressed),
    )


def explained(clustering: Clustering, only: set[int] | None = None, exclude: set[int] = frozenset()) -> Counter[str]:
    """The clustering's explained links (of the suspects `only` names, none of those `exclude` names)."""
    owner = clustering.label_of
    return Counter(
        repr(link)
        for link in clustering.links
        if (only is None or owner[link.a] in only) and owner[link.a] not in exclude
    )


@pytest.mark.parametrize("settings", [DEFAULTS, TIGHT], ids=["defaults", "tight-caps"])
@pytest.mark.parametrize("seed", [1, 2])
def test_relinking_what_changed_gives_what_linking_everything_gives(
    store_input: LinkInput, settings: LinkSettings, seed: int
) -> None:
    """Reports gone, values lost and gained: the regions they touch linked again, the rest kept, give the suspects,
    explanations, suppressed values and networks a full link weighed by the same model gives."""
    before = resolve_suspects(store_input, settings)
    assert before.model is not None
    state = EvidenceState.of(store_input, settings)
    previous = Previous(
        1, Basis(before.model, settings.as_dict(), "", 1), state.digests, before.label_of, state.holders
    )
    after = changed(store_input, before.label_of, seed)
    full = resolve_suspects(after, settings, before.model)
    full_networks, full_coarse = find_networks(after, full.label_of, settings)

    done = relink(changed(store_input, before.label_of, seed), settings, previous, set(), [], _constrain)
    assert done.clustering.label_of == full.label_of
    # the explanations of the suspects linked again are the full link's; every other suspect's are as they were
    assert explained(done.clustering) == explained(full, done.rewritten)
    assert explained(before, exclude=done.rewritten) == explained(full, exclude=done.rewritten)
    assert Counter(map(repr, done.clustering.suppressed)) == Counter(map(repr, full.suppressed))
    assert done.networks.label_of == full_networks.label_of and done.coarse == full_coarse
    assert 0 < done.changed <= done.reports < len(after.reports)


def test_a_value_hashes_the_same_in_every_process_and_version() -> None:
    """Digests kept by one link are compared by the next, perhaps after an upgrade: a change to the hash makes every
    report look changed once (an incremental link then links everything again), so it must be deliberate."""
    assert stable_hashes(["", "a", "phone\0+919811012345", "नाम"]).tolist() == [
        10749833864783185041,
        16623460447839993895,
        10280674959956899296,
        8984448758264651953,
    ]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=30))
def test_a_string_hashes_the_same_alone_or_among_others(strings: list[str]) -> None:
    together = stable_hashes(strings).tolist()
    assert together == [int(stable_hashes([one])[0]) for one in strings]
    assert len(set(together)) == len(set(strings))  # 64 bits: distinct strings, distinct hashes


def test_a_report_s_digest_changes_with_its_own_evidence_only(store_input: LinkInput) -> None:
    before = report_digests(store_input)
    report = store_input.reports[len(store_input.reports) // 2]
    answered = LinkInput(
        store_input.reports,
        [*store_input.identity, (report, "phone", "+919811099999")],
        names=store_input.names,
        ages=store_input.ages,
        born=store_input.born,
        verified=store_input.verified,
    )
    after = report_digests(answered)
    assert {r for r in before if before[r] != after[r]} == {report}


def test_the_command_says_what_it_linked_again(tmp_path: Path, batches: tuple[Path, Path, Path]) -> None:
    """Through the real entry point: the first incremental link links everything and says why; after the later batch
    one says how many reports it linked again."""
    first, later, _ = batches
    store = ("--database", f"sqlite:///{tmp_path / 'store.db'}")

    def tipfusion(*args: str) -> str:
        done = tipfusion_cli(*store, *args, cwd=tmp_path, env={"COLUMNS": "200"})
        assert done.returncode == 0, done.stderr
        return done.stdout

    tipfusion("ingest", str(first))
    assert "no earlier link to build on" in tipfusion("link", "--incremental")
    tipfusion("ingest", str(later))
    said = tipfusion("link", "--incremental")
    assert "linked again" in said and "linked everything" not in said
    refused = tipfusion_cli(*store, "link", "--engine", "spark", "--incremental", cwd=tmp_path)
    one_error(refused, 2, "--incremental is the embedded engine's")


# -- cases a review found, each of which the first version got wrong ---------------------------------------------
EMAIL_CAP_3 = replace(DEFAULTS, caps={**DEFAULTS.caps, "email": 3})
MODEL = LinkModel(NameStats({}, 0, 0.0), {"phone": Disagreement("phone", 0.9, 0.01, -4.0)})


def relinked_as_full(
    before: LinkInput, after: LinkInput, settings: LinkSettings, model: LinkModel | None = None, joins: Any = ()
) -> tuple[dict[int, int], dict[int, int]]:
    """(what relink gives, what a full link with the same model gives) after `before` became `after`."""
    joins = list(joins)
    first = _constrain(resolve_suspects(before, settings, model), set(), joins)
    used = model or first.model
    assert used is not None
    state = EvidenceState.of(before, settings)
    previous = Previous(1, Basis(used, settings.as_dict(), "", 1), state.digests, first.label_of, state.holders)
    full = _constrain(resolve_suspects(after, settings, used), set(), joins)
    return relink(after, settings, previous, set(), joins, _constrain).clustering.label_of, full.label_of


def emails(reports: Iterable[int], value: str = "e@example.test") -> list[tuple[int, str, str]]:
    return [(report, "email", value) for report in reports]


@pytest.mark.parametrize(
    ("before", "after", "settings"),
    [
        # a new report pushes the email over its cap: the three who shared it come apart
        (LinkInput([1, 2, 3], emails([1, 2, 3])), LinkInput([1, 2, 3, 4], emails([1, 2, 3, 4])), EMAIL_CAP_3),
        # a purge brings it back to the cap: they are one again
        (LinkInput([1, 2, 3, 4], emails([1, 2, 3, 4])), LinkInput([1, 2, 3], emails([1, 2, 3])), EMAIL_CAP_3),
        # a new version drops it from one report: three holders weigh it more than four did
        (
            LinkInput([1, 2, 3, 4], emails([1, 2, 3, 4])),
            LinkInput([1, 2, 3, 4], emails([1, 2, 3]) + emails([4], "other@example.test")),
            DEFAULTS,
        ),
    ],
    ids=["new-report-over-cap", "purge-under-cap", "new-version-drops-a-value"],
)
def test_a_value_whose_count_of_holders_moved_is_relinked_with_all_its_holders(
    before: LinkInput, after: LinkInput, settings: LinkSettings
) -> None:
    got, full = relinked_as_full(before, after, settings)
    assert got == full


def test_a_value_held_too_widely_still_counts_as_a_contradiction_inside_a_region() -> None:
    """Reports 1 and 2 share an email; 1 shows a phone eight accounts hold (over the cap), 2 another: both show a
    phone and share none, whether or not the phone's other holders are linked again."""
    rows = [(1, "email", "e@example.test"), (2, "email", "e@example.test"), (1, "phone", "P"), (2, "phone", "Q")]
    rows += [(report, "phone", "P") for report in range(10, 17)]
    before = LinkInput([1, 2, *range(10, 17)], rows)
    after = LinkInput([1, 2, *range(10, 17)], [*rows, (2, "display_name", "zz")])  # report 2 changes
    got, full = relinked_as_full(before, after, DEFAULTS, MODEL)
    assert got == full and full[1] != full[2]


def test_a_join_naming_a_purged_report_joins_nothing() -> None:
    before = LinkInput([1, 2, 3], [(1, "email", "a"), (2, "email", "b"), (3, "email", "c")])
    after = LinkInput([1, 2], [(1, "email", "a"), (2, "email", "b")])
    got, full = relinked_as_full(before, after, DEFAULTS, joins=[(1, 3, "one person")])
    assert got == full == {1: 1, 2: 2}


def test_a_long_value_hashes_every_byte_in_its_place() -> None:
    assert stable_hashes(["a" * 4096 + "xy"])[0] != stable_hashes(["a" * 4096 + "yx"])[0]


def test_a_split_report_that_changed_sends_the_link_to_link_everything() -> None:
    """Report 2 shares an account with 1 and was split from it by an analyst; a new version moves it to another
    account. The reports it was split from are in no old suspect with it: only a full link knows them."""
    rows = [(1, "esp_user", "u1"), (1, "email", "E"), (2, "esp_user", "u1"), (2, "phone", "P2")]
    rows += [(3, "email", "E"), (3, "phone", "P3")]
    before = LinkInput([1, 2, 3], rows)
    moved = [row for row in rows if row[0] != 2] + [(2, "esp_user", "u9"), (2, "phone", "P2")]
    first = _constrain(resolve_suspects(before, DEFAULTS, MODEL), {2}, [])
    state = EvidenceState.of(before, DEFAULTS)
    previous = Previous(1, Basis(MODEL, DEFAULTS.as_dict(), "", 1), state.digests, first.label_of, state.holders)
    with pytest.raises(SplitChanged):
        relink(LinkInput([1, 2, 3], moved), DEFAULTS, previous, {2}, [], _constrain)
    split = SimpleNamespace(id=1, action="split", kind=None, value=None, report_a=2, report_b=None, reason="r")
    outcome = link_changes(LinkInput([1, 2, 3], moved), DEFAULTS, [split], {}, previous)
    assert "split from its suspect" in str(outcome.why_everything) and outcome.relinked is None
    full = _constrain(resolve_suspects(LinkInput([1, 2, 3], moved), DEFAULTS, MODEL), {2}, [])
    assert {r: int(s[1:]) for r, s in outcome.report_suspect.items()} == full.label_of


def test_an_incremental_link_refuses_to_write_when_another_link_finished_meanwhile(
    first_in: Engine, batches: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, (_, later, reference) = first_in, batches
    LinkService(engine, "tester").run()
    ingest_and_enrich(engine, later, reference)
    stored = results(engine)
    real = service.relink

    def another_link_first(*args: Any, **kwargs: Any) -> Any:
        LinkService(engine, "other analyst").run()  # finishes while the incremental one is linking
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "relink", another_link_first)
    with pytest.raises(TipfusionError, match="finished while this one ran"):
        LinkService(engine, "tester").run(incremental=True)
    monkeypatch.undo()
    assert results(engine) != stored  # the other link's answer stands, whole
    after = LinkService(engine, "tester").run(incremental=True)
    assert (after.relinked, after.changed) == (0, 0)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sightings_read_in_a_child_link_as_those_read_here(first_in: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's sightings, read in a child process for a large store (`store.sqlite_arrow`), give the link the same
    answer as read in the linking process: the second link writes no row."""
    _, children = watched(monkeypatch)
    here = LinkService(first_in, "tester").run()
    assert not children and any(inserted for _, inserted in here.rows_written.values())
    monkeypatch.setattr(link_inputs, "READ_IN_A_CHILD_FROM", 0)  # this small store read as a large one is
    child = LinkService(first_in, "tester").run()
    assert [started.returncode for started in children] == [0, 0]  # two, a half of the sightings each, read to the end
    assert all(written == (0, 0) for table, written in child.rows_written.items() if table in RESULTS)
