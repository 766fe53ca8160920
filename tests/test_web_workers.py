"""`tipfusion serve --workers N` (SQLite and PostgreSQL): several uvicorn processes over one store, and a login made
through one of them holds on every connection, whichever worker takes it (sessions live in the store)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from tests.web_support import DEMO_PASSWORD, free_port
from tipfusion.accounts.service import create_user

HOST = "127.0.0.1"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _children(pid: int) -> set[int]:
    """The worker processes under the supervisor (spawned; not multiprocessing's resource tracker)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in command:
                found.add(int(child))
    return found


@pytest.fixture
def served(engine: Engine, db_url: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    create_user(engine, "builder", "analyst", DEMO_PASSWORD, "analyst", synthetic=True)
    port = free_port()
    log = tmp_path / "server.log"
    command = [sys.executable, "-m", "tipfusion", "--database", db_url, "serve", "--host", HOST]
    command += ["--port", str(port), "--workers", "2"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            if server.poll() is not None:
                pytest.fail(f"the server stopped (exit {server.returncode}): {log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{base}/login", timeout=5).status_code == 200 and len(_children(server.pid)) >= 2:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer within 120 s: {log.read_text(errors='replace')}")
            time.sleep(0.3)
        yield base, server
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_a_login_holds_across_workers(served: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, server = served
    assert len(_children(server.pid)) == 2  # two worker processes under the supervisor
    # no keep-alive: every request is a new connection, handed to whichever worker accepts it
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=base, limits=limits, timeout=30) as client:
        token = CSRF.search(client.get("/login").text)
        assert token is not None
        data = {"username": "analyst", "password": DEMO_PASSWORD, "csrf_token": token.group(1), "next": "/"}
        assert client.post("/login", data=data).status_code == 303
        for _ in range(12):
            page = client.get("/queue")
            assert page.status_code == 200 and "analyst" in page.text
        # a state change carries the session's CSRF token from any worker to any other
        csrf = re.search(r'data-csrf="([^"]+)"', client.get("/queue").text)
        assert csrf is not None
        assert client.post("/logout", headers={"X-CSRF-Token": csrf.group(1)}).status_code == 303
        assert client.get("/queue").status_code == 303  # logged out everywhere
