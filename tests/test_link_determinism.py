"""Linking is deterministic across processes (issue 12 §7): `tipfusion link` run with different PYTHONHASHSEED values
on the same batch gives the same suspects, networks, explanations and suppressed values, byte for byte in the exports.

Python salts the hash of every string per process, so anything that lets set or dict-of-set iteration order decide an
ID, a tie, an edge or the order of an explanation shows up here as a difference between two runs. Each run links the
batch into its own store, the same batch ingested alike, in a fresh interpreter, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from tests.conftest import POSTGRES_URL, _in_schema, schema_of
from tipfusion.store.db import make_engine
from tipfusion.store.tables import link_aliases, link_explanations, report_links, suppressed_values

SRC = str(Path(__file__).resolve().parents[1] / "src")
SEEDS = ("0", "1")


def _environment(seed: str) -> dict[str, str]:
    """A fresh interpreter's environment: this checkout first, this hash seed, no TIPFUSION_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPFUSION_")}
    return {**env, "PYTHONPATH": SRC, "PYTHONHASHSEED": seed, "COLUMNS": "160"}


def tipfusion(db_url: str, *args: str, seed: str, cwd: Path) -> str:
    """`python -m tipfusion --database URL ARGS` in a fresh interpreter with this PYTHONHASHSEED."""
    env = _environment(seed)
    done = subprocess.run(
        [sys.executable, "-m", "tipfusion", "--database", db_url, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


# several commands in one fresh interpreter, each run as `python -m tipfusion` runs it (`cli.main.run`, its exit
# code checked): the interpreter's hash seed is what is under test, and a process per command cost ~0.7 s each
IN_ONE_PROCESS = """
import json, sys
from tipfusion.cli.main import run
for argv in json.loads(sys.argv[1]):
    sys.argv = ["tipfusion", *argv]
    try:
        run()
    except SystemExit as done:
        if done.code not in (None, 0):
            raise
"""


def tipfusion_commands(db_url: str, commands: list[list[str]], seed: str, cwd: Path) -> None:
    """`tipfusion --database URL COMMAND` for each command, in order, in one fresh interpreter with this hash seed."""
    env = _environment(seed)
    argv = json.dumps([["--database", db_url, *command] for command in commands])
    done = subprocess.run(
        [sys.executable, "-c", IN_ONE_PROCESS, argv], capture_output=True, text=True, cwd=cwd, env=env, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr


def stores(db_url: str, tmp_path: Path, count: int) -> list[str]:
    """`db_url` and `count - 1` more empty stores of the same backend: SQLite files, or PostgreSQL schemas."""
    made = [db_url]
    for n in range(1, count):
        if db_url.startswith("sqlite"):
            made.append(f"sqlite:///{tmp_path / f'store{n}.db'}")
        else:
            schema = f"{schema_of(db_url)}_{n}"
            with make_engine(POSTGRES_URL).begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            made.append(_in_schema(schema))
    return made


def drop(urls: list[str]) -> None:
    """Remove the PostgreSQL schemas `stores` made (the fixture removes its own; SQLite files go with tmp_path)."""
    for url in urls[1:]:
        if not url.startswith("sqlite"):
            with make_engine(POSTGRES_URL).begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema_of(url)} CASCADE"))


def outcome(db_url: str, seed: str, work: Path) -> dict[str, Any]:
    """Link with this hash seed, then everything linking decided: the exports as written, and the stored links."""
    work.mkdir()
    exports = ("suspects", "networks", "chart")
    commands = [["link"], *(["export", what, "--format", "json", "--output", f"{what}.json"] for what in exports)]
    tipfusion_commands(db_url, commands, seed, work)  # linked, then exported, by one interpreter with this seed
    found: dict[str, Any] = {f"export {what}": (work / f"{what}.json").read_text(encoding="utf-8") for what in exports}
    engine = make_engine(db_url)
    le, sv = link_explanations, suppressed_values
    with engine.connect() as conn:
        found["report_links"] = conn.execute(
            select(report_links.c.report_id, report_links.c.suspect_id, report_links.c.network_id).order_by(
                report_links.c.report_id
            )
        ).all()
        found["explanations"] = [
            (row.level, row.owner_id, row.a, row.b, row.score, json.dumps(row.evidence))
            for row in conn.execute(select(le).order_by(le.c.id))
        ]
        found["suppressed"] = conn.execute(
            select(sv.c.level, sv.c.kind, sv.c.value, sv.c.holders, sv.c.reason).order_by(sv.c.id)
        ).all()
        found["aliases"] = conn.execute(select(link_aliases.c.old_id, link_aliases.c.new_id)).all()
    engine.dispose()
    return found


def test_link_is_the_same_whatever_the_hash_seed(db_url: str, tmp_path: Path, synthetic_batch: Path) -> None:
    urls = stores(db_url, tmp_path, len(SEEDS))
    try:
        runs = {}
        for seed, url in zip(SEEDS, urls, strict=True):  # one batch, ingested alike into a store of its own per seed
            tipfusion(url, "ingest", str(synthetic_batch), seed=seed, cwd=tmp_path)
            runs[seed] = outcome(url, seed, tmp_path / f"seed{seed}")
    finally:
        drop(urls)
    first = runs[SEEDS[0]]
    assert len(first["report_links"]) == 120 and first["explanations"] and json.loads(first["export networks"])
    for seed in SEEDS[1:]:
        for part, value in first.items():
            assert runs[seed][part] == value, f"{part} differs between PYTHONHASHSEED={SEEDS[0]} and {seed}"


def test_the_same_store_relinked_keeps_every_name(db_url: str, tmp_path: Path, synthetic_batch: Path) -> None:
    """A second `link` over the same store, in a process with another hash seed, changes no name, records no alias."""
    tipfusion(db_url, "ingest", str(synthetic_batch), seed="0", cwd=tmp_path)
    before = outcome(db_url, "0", tmp_path / "first")
    after = outcome(db_url, "1", tmp_path / "again")
    assert after == before and not after["aliases"]
