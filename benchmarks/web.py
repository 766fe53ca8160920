"""Web pages under concurrent analysts: work queue, search, report, suspect and ISP requests pages over loopback.

    PYTHONPATH=src .venv/bin/python benchmarks/web.py --reports 5000 --requests 200 --sessions 50
    PYTHONPATH=src .venv/bin/python benchmarks/web.py --reports 2000 --workers 1,2   # one process, then two

Builds a store of --reports synthetic reports through the project's own synth + pipeline (PostgreSQL in a fresh
schema, dropped at the end unless --keep; --sqlite for the embedded store; --store URL --reuse to reuse one built
earlier), creates an analyst account, starts `tipfusion serve` (uvicorn) on a free 127.0.0.1 port in a subprocess,
logs --sessions httpx clients in through the login form, then for each page issues exactly --requests requests
(the ISP requests overview: a quarter of them) spread over the sessions, all sessions at once. Prints per page:
requests, errors (anything but 200), p50/p95/max milliseconds as the client saw them, and the server's peak RSS.
With --workers 1,2 the same store is served with `tipfusion serve --workers N` for each N in turn (the first is the
baseline of the run) and a table printed for each; peak RSS is then summed over the worker processes. By default
each session sends its next request the moment the last one answers, so the server is saturated and the latency
is mostly queueing (about sessions × service time ÷ cores); --think S makes each session pause a random 0–2×S
seconds first, as analysts reading a page do. Loopback only: the server never listens elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select, text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.memory import high_water_mb  # noqa: E402

PG_URL = os.environ.get("TIPFUSION_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
HOST = "127.0.0.1"  # loopback only, always
ANALYST = "bench-analyst"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Outcome:
    """What one page's round of requests came to."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _fresh_schema() -> tuple[str, str]:
    from tipfusion.store.db import make_engine

    schema = f"bench_web_{uuid.uuid4().hex[:8]}"
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return f"{PG_URL}?options=-csearch_path%3D{schema}", schema


def _drop_schema(schema: str) -> None:
    from tipfusion.store.db import make_engine

    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def _build(url: str, reports: int, seed: int, work: Path) -> float:
    """The store through routing, as `tipfusion demo` builds it; returns seconds taken."""
    from tipfusion.config import Settings
    from tipfusion.pipeline import through_routing
    from tipfusion.store.db import make_engine, upgrade
    from tipfusion.synth import generate

    started = time.perf_counter()
    engine = make_engine(url)
    upgrade(engine)
    through_routing(engine, Settings(database_url=url), "benchmark", generate(work / "batch", reports, seed))
    engine.dispose()
    return time.perf_counter() - started


def _another_form(value: str, canonical: str) -> str:
    """The phone as a person might type it: E.164 split into groups, or the reported form with a space."""
    if canonical.startswith("+") and len(canonical) > 8:
        return f"{canonical[:3]} {canonical[3:8]} {canonical[8:]}"
    return value[:3] + " " + value[3:]


def _targets(url: str, count: int, seed: int) -> tuple[int, dict[str, list[str]]]:
    """The reports the store holds, and paths to request for each page sampled from them."""
    from tipfusion.store.db import make_engine
    from tipfusion.store.tables import identifier_observations as o
    from tipfusion.store.tables import report_links, reports

    rng = random.Random(seed)
    engine = make_engine(url)
    with engine.connect() as conn:
        held = conn.execute(select(func.count()).select_from(reports)).scalar_one()
        if not held:
            raise SystemExit("the store holds no reports: build it first (drop --reuse)")
        report_ids = list(conn.execute(select(reports.c.report_id).limit(20_000)).scalars())
        suspect_ids = list(conn.execute(select(report_links.c.suspect_id).distinct().limit(20_000)).scalars())
        phones = conn.execute(
            select(o.c.value, o.c.canonical).where(o.c.kind == "phone", o.c.is_current).distinct().limit(20_000)
        ).all()
    engine.dispose()
    if not (report_ids and suspect_ids and phones):
        raise SystemExit("the store holds no suspects or phones to look up: was it built through linking?")
    sorts = ("priority", "priority", "priority", "id")
    return held, {
        "work queue": [f"/queue?page={rng.randint(1, 3)}&sort={rng.choice(sorts)}" for _ in range(count)],
        "search (phone, other form)": [
            "/search?" + str(httpx.QueryParams({"q": _another_form(*rng.choice(phones))})) for _ in range(count)
        ],
        "report page": [f"/reports/{rng.choice(report_ids)}" for _ in range(count)],
        "suspect page": [f"/suspects/{rng.choice(suspect_ids)}" for _ in range(count)],
        # the ISP requests overview (kept pending counts, a page of requests): one in four as many requests
        "ISP requests overview": ["/requests"] * max(1, count // 4),
    }


def _account(url: str) -> str:
    """An analyst account for the run (its password reset if a reused store has it already)."""
    from tipfusion.accounts.service import create_user, get_account, set_password
    from tipfusion.errors import NotFound
    from tipfusion.store.db import make_engine

    password = secrets.token_urlsafe(24)
    engine = make_engine(url)
    try:
        get_account(engine, ANALYST)
    except NotFound:
        create_user(engine, "benchmark", ANALYST, password, "analyst", synthetic=True)
    else:
        set_password(engine, "benchmark", ANALYST, password)
    engine.dispose()
    return password


def _serve(url: str, port: int, log: Path, workers: int = 1) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tipfusion", "--database", url, "serve", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(workers)]
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit {server.returncode}):\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"http://{HOST}:{port}/login", timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"the server did not answer on {HOST}:{port} within 180 s:\n{log.read_text(errors='replace')}")


def _peak_rss_mb(pid: int) -> float:
    """The server's high-water resident set (VmHWM), its worker processes' added, read before it stops."""
    peaks = [high_water_mb(process) for process in [pid, *_children(pid)]]
    return sum(peaks) if any(peaks) else float("nan")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.extend(int(c) for c in (task / "children").read_text().split())
    return found


async def _login(client: httpx.AsyncClient, password: str) -> None:
    form = await client.get("/login")
    token = CSRF_INPUT.search(form.text)
    if token is None:
        raise SystemExit("the login page has no CSRF token")
    answer = await client.post(
        "/login", data={"username": ANALYST, "password": password, "csrf_token": token.group(1), "next": "/"}
    )
    if answer.status_code != 303:
        raise SystemExit(f"login failed: HTTP {answer.status_code}")


async def _round(
    clients: list[httpx.AsyncClient], paths: list[str], needle: str = "", think: float = 0.0, seed: int = 0
) -> Outcome:
    """Every session at once, each working through its share of `paths` one request after another, pausing a random
    0–2×`think` seconds before each (0: back to back, the server saturated). A 200 without `needle` in the page
    counts as an error too (a search that found nothing measures nothing)."""
    outcome = Outcome()
    rng = random.Random(seed)

    async def session(client: httpx.AsyncClient, share: list[str]) -> None:
        for path in share:
            if think:
                await asyncio.sleep(rng.uniform(0, 2 * think))
            started = time.perf_counter()
            try:
                answer = await client.get(path)
                status = str(answer.status_code)
                if status == "200" and needle not in answer.text:
                    status = "200 without a match"
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            outcome.latencies_ms.append((time.perf_counter() - started) * 1000)
            if status != "200":
                outcome.errors += 1
                outcome.first_error = outcome.first_error or f"{status} on {path.split('?')[0]}"

    n = len(clients)
    await asyncio.gather(*(session(c, paths[i::n]) for i, c in enumerate(clients)))
    return outcome


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


async def _drive(
    port: int, password: str, sessions: int, targets: dict[str, list[str]], think: float = 0.0
) -> dict[str, Outcome]:
    # one connection per session, like a tab; closed by the client after 2 s idle, before uvicorn's 5 s keep-alive
    # timeout closes it: with both at 5 s a session idle that long (while the others log in, or between pages) could
    # send its request into the connection just as the server closed it (RemoteProtocolError, not the page's fault)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=2.0)
    timeout = httpx.Timeout(120.0)
    clients = [
        httpx.AsyncClient(base_url=f"http://{HOST}:{port}", limits=limits, timeout=timeout) for _ in range(sessions)
    ]
    try:
        for client in clients:  # one after another: argon2 on a loaded machine, and the login is not what is timed
            await _login(client, password)
        results = {}
        for page, paths in targets.items():
            await _round(clients[:1], paths[:1])  # warm the page (templates, caches) outside the figures
            needle = 'href="/reports/' if page.startswith("search") else ""
            results[page] = await _round(clients, paths, needle, think)
        return results
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=5000, help="synthetic reports in the store built")
    parser.add_argument("--requests", type=int, default=200, help="requests per page (the bound)")
    parser.add_argument("--sessions", type=int, default=50, help="concurrent logged-in sessions")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--sqlite", action="store_true", help="the embedded store in a temporary folder")
    parser.add_argument("--store", default=None, help="a store URL to build into (or, with --reuse, to use)")
    parser.add_argument("--reuse", action="store_true", help="use --store as it is, building nothing")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema made for the run")
    parser.add_argument("--workers", default="1", help="server processes, or a list run in turn: 1,2,4")
    parser.add_argument(
        "--pages",
        default="",
        help="only the pages whose names hold these words, comma-separated: queue,search,report,suspect,ISP",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean seconds a session pauses before each request (uniform 0–2×; default 0: back to back)",
    )
    args = parser.parse_args()
    if args.reuse and not args.store:
        parser.error("--reuse needs --store URL")
    try:
        counts = [int(n) for n in args.workers.split(",") if n.strip()]
    except ValueError:
        parser.error(f"--workers {args.workers!r}: expected whole numbers, e.g. 1,2")
    if not counts or min(counts) < 1:
        parser.error("--workers: at least one count, each ≥ 1")
    with tempfile.TemporaryDirectory(prefix="tipfusion-web-bench-") as tmp:
        work = Path(tmp)
        schema = None
        if args.store:
            url = args.store
        elif args.sqlite:
            url = f"sqlite:///{work / 'store.db'}"
        else:
            url, schema = _fresh_schema()
        runs: list[tuple[int, dict[str, Outcome], float, float]] = []
        try:
            built = "reused"
            if not args.reuse:
                print(f"building {args.reports:,} synthetic reports …", flush=True)
                built = f"built in {_build(url, args.reports, args.seed, work):.0f} s"
            held, targets = _targets(url, args.requests, args.seed)
            wanted = [w.strip().lower() for w in args.pages.split(",") if w.strip()]
            targets = {p: t for p, t in targets.items() if not wanted or any(w in p.lower() for w in wanted)}
            if not targets:
                parser.error(f"--pages {args.pages!r}: no page matches")
            password = _account(url)
            for workers in counts:
                runs.append((workers, *_one_server(url, workers, password, args.sessions, targets, work, args.think)))
        finally:
            if schema and not args.keep:
                _drop_schema(schema)
            elif schema:
                print(f"kept: {url}")
    backend = url.split(":", 1)[0]
    for workers, results, elapsed, peak in runs:
        print(
            f"{backend}, {held:,} reports ({built}), {args.sessions} sessions, {args.requests} requests per page, "
            f"{workers} worker(s), think {args.think:g} s, {elapsed:.0f} s driving"
        )
        _table(results, peak, lambda line: print(line))


def _one_server(
    url: str,
    workers: int,
    password: str,
    sessions: int,
    targets: dict[str, list[str]],
    work: Path,
    think: float = 0.0,
) -> tuple[dict[str, Outcome], float, float]:
    """Serve the store with `workers` processes, drive every page, stop it: (outcomes, seconds driving, peak MB)."""
    port = _free_port()
    server = _serve(url, port, work / f"server-{workers}.log", workers)
    try:
        started = time.perf_counter()
        results = asyncio.run(_drive(port, password, sessions, targets, think))
        elapsed = time.perf_counter() - started
        peak = _peak_rss_mb(server.pid)
    finally:
        server.send_signal(signal.SIGINT)  # uvicorn's supervisor stops its workers on SIGINT
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    return results, elapsed, peak


def _table(results: dict[str, Outcome], peak_mb: float, out: Callable[[str], None]) -> None:
    out(f"{'page':<28}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for page, outcome in results.items():
        lat = outcome.latencies_ms
        out(
            f"{page:<28}{len(lat):>9}{outcome.errors:>8}{_pct(lat, 0.5):>9.0f}{_pct(lat, 0.95):>9.0f}"
            f"{max(lat, default=float('nan')):>9.0f}"
        )
        if outcome.first_error:
            out(f"    first error: {outcome.first_error}")
    out(f"server peak RSS: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
