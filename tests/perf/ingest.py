"""Benchmark: signed webhooks into ``inbox serve`` on PostgreSQL, against a baseline.

Run from the project root: ``python tests/perf/ingest.py [--seconds 10] [--rounds 2]``.
Needs PostgreSQL (a fresh database is created and dropped), Redis on 127.0.0.1:6379
(database 9 is flushed) and ``wrk`` (installed with apt-get when missing).

Both servers are one uvicorn process each; the same wrk command (one thread, 64
connections) replays pre-signed requests at each: Twilio, Telegram and Messenger
in turn, each a new message, from 100 senders per provider. The baseline is one
Starlette endpoint doing one asyncpg INSERT of the raw body
(tests/perf/baseline_app.py). Baseline and inbox take turns, ``--rounds`` times,
so a busy machine weighs on both alike.

Afterwards the database must hold exactly the messages sent: one row per message,
every acknowledged one, none that was not sent. wrk stops mid-flight, so a
request it built but had no answer for may be absent; it is counted and shown.
A benchmark that loses or duplicates messages has no figure.

Targets: >= 1000 messages/s, p99 < 100 ms, throughput >= 0.5 x the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from tests.perf.webhook_load import build_lines, seed_channels, write_requests  # noqa: E402

PERF_DIR = Path(__file__).resolve().parent
REPLAY_SCRIPT = PERF_DIR / "replay_requests.lua"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/9"
CONNECTIONS = 64
WARMUP_SECONDS = 5
# More requests than the servers can answer in a run, so the replay never wraps
# into re-sending (which would measure the de-duplication path instead).
REQUESTS_PER_SECOND_CEILING = 3000
STARTUP_SECONDS = 60
TARGET_RATE = 1000.0
TARGET_P99_MS = 100.0
TARGET_RATIO = 0.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False)
    found = shutil.which("wrk")
    if not found:
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
        found = shutil.which("wrk")
    assert found, "wrk could not be installed"
    return found


async def create_database(name: str) -> str:
    connection = await asyncpg.connect(f"{POSTGRES}/postgres")
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"{POSTGRES}/{name}"


async def drop_database(name: str) -> None:
    connection = await asyncpg.connect(f"{POSTGRES}/postgres")
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def count_messages(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM message"))
    finally:
        await connection.close()


async def list_message_ids(database_url: str) -> list[str]:
    """The provider message id of every stored message (duplicates kept)."""
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch("SELECT provider_message_id FROM message")
    finally:
        await connection.close()
    return [row[0] for row in rows]


async def seed_and_build(
    env: dict[str, str], public_url: str, files: dict[str, tuple[Path, int]], run: str
) -> dict[str, list[str]]:
    """Migrate, create the workspace and its channels, write the request files."""
    from inbox.database import apply_migrations, close_database, open_database
    from inbox.settings import load_settings

    settings = load_settings(
        database_url=env["DATABASE_URL"],
        redis_url=env["REDIS_URL"],
        data_dir=Path(env["DATA_DIR"]),
        master_key=env["MASTER_KEY"],
        secret_key=env["SECRET_KEY"],
        public_url=public_url,
    )
    await apply_migrations(settings)
    await open_database(settings)
    try:
        channels = await seed_channels(settings)
    finally:
        await close_database()
    ids = {}
    for number, (name, (path, count)) in enumerate(files.items(), start=1):
        label = f"{run}{number:02x}"[-8:]
        ids[name] = write_requests(path, build_lines(public_url, channels, label, number, count))
    return ids


def start_server(command: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    process = subprocess.Popen(
        command, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"server did not start; see {log}")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run_wrk(wrk: str, url: str, requests_file: Path, seconds: int) -> dict[str, float]:
    command = [
        wrk,
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(REPLAY_SCRIPT),
        url,
    ]
    env = dict(os.environ, REPLAY_FILE=str(requests_file))
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    line = next(item for item in output.splitlines() if item.startswith("REPLAY "))
    return {key: float(value) for key, value in (pair.split("=") for pair in line.split()[1:])}


def describe(name: str, figures: dict[str, float]) -> str:
    return (
        f"{name:9} {figures['rps']:8.1f} req/s   p50 {figures['p50_us'] / 1000:6.1f} ms   "
        f"p99 {figures['p99_us'] / 1000:6.1f} ms   completed {int(figures['completed'])}   "
        f"non-2xx {int(figures['non_2xx'])}   socket errors {int(figures['socket_errors'])}"
    )


async def clear_redis() -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


def server_commands(baseline_port: int, inbox_port: int) -> dict[str, list[str]]:
    baseline = [sys.executable, "-m", "uvicorn", "baseline_app:app", "--app-dir", str(PERF_DIR)]
    baseline += ["--host", "127.0.0.1", "--port", str(baseline_port)]
    baseline += ["--no-access-log", "--log-level", "warning"]
    inbox = [sys.executable, "-m", "inbox.cli", "serve", "--host", "127.0.0.1"]
    inbox += ["--port", str(inbox_port)]
    return {"baseline": baseline, "inbox": inbox}


def check_round(figures: dict[str, float], ids: list[str], stored_ids: set[str]) -> bool:
    """Exact: one row per message, every acknowledged message stored, nothing stored
    that was not sent; only requests cut off by the end of the run may be absent."""
    sent = int(figures["issued"])
    issued = set(ids[:sent])
    stored = stored_ids & set(ids)
    missing = len(issued - stored)
    unanswered = sent - int(figures["completed"])
    print(
        f"messages  built by wrk {sent}, answered 2xx {int(figures['ok'])}, stored "
        f"{len(stored)}, not stored {missing} (unanswered when wrk stopped: {unanswered})"
    )
    return (
        sent <= len(ids)
        and len(stored) >= figures["ok"]
        and not stored - issued
        and missing <= unanswered
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="baseline/inbox alternations")
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args()

    wrk = ensure_wrk()
    run = secrets.token_hex(4)
    database = f"inbox_perf_{run}"
    work = Path(tempfile.mkdtemp(prefix="inbox-perf-"))
    database_url = asyncio.run(create_database(database))
    asyncio.run(clear_redis())
    inbox_port, baseline_port = free_port(), free_port()
    public_url = f"http://127.0.0.1:{inbox_port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"TEST_DATABASE_URL", "TEST_REDIS_URL"}
    } | {
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "DATA_DIR": str(work / "data"),
        "MASTER_KEY": "perf-master-key",
        "SECRET_KEY": "perf-secret-key",
        "PUBLIC_URL": public_url,
        "LOG_LEVEL": "WARNING",
        "RUN_WORKER_IN_PROCESS": "false",
        "BASELINE_DATABASE_URL": database_url,
        "PYTHONPATH": str(ROOT),
    }
    per_round = REQUESTS_PER_SECOND_CEILING * args.seconds
    files = {"warmup": (work / "warmup.tsv", REQUESTS_PER_SECOND_CEILING * WARMUP_SECONDS)}
    for number in range(args.rounds):
        files[f"round{number}"] = (work / f"round{number}.tsv", per_round)
    print(f"building {sum(count for _, count in files.values())} signed requests ...", flush=True)
    ids = asyncio.run(seed_and_build(env, public_url, files, run))

    commands = server_commands(baseline_port, inbox_port)
    urls = {"baseline": f"http://127.0.0.1:{baseline_port}", "inbox": public_url}
    servers: dict[str, subprocess.Popen] = {}
    results: dict[str, list[dict[str, float]]] = {"baseline": [], "inbox": []}
    try:
        for name in ("baseline", "inbox"):
            servers[name] = start_server(
                commands[name], env, int(urls[name].rsplit(":", 1)[1]), work / f"{name}.log"
            )
        print(f"inbox serve is process {servers['inbox'].pid}", flush=True)
        for name in ("baseline", "inbox"):
            run_wrk(wrk, urls[name], files["warmup"][0], WARMUP_SECONDS)
        time.sleep(1.0)  # the warm-up's last requests finish
        for number in range(args.rounds):
            for name in ("baseline", "inbox"):
                path = files[f"round{number}"][0]
                results[name].append(run_wrk(wrk, urls[name], path, args.seconds))
                time.sleep(1.0)  # requests still in flight when wrk stopped finish here
        for process in servers.values():
            stop_server(process)
        stored_ids = set(asyncio.run(list_message_ids(database_url)))
        total_rows = asyncio.run(count_messages(database_url))
    finally:
        for process in servers.values():
            stop_server(process)
        if not args.keep_database:
            asyncio.run(drop_database(database))
        shutil.rmtree(work, ignore_errors=True)

    exact = total_rows == len(stored_ids)  # no message stored twice
    for number in range(args.rounds):
        print(f"round {number + 1}")
        print(describe("baseline", results["baseline"][number]))
        print(describe("inbox", results["inbox"][number]))
        exact = check_round(results["inbox"][number], ids[f"round{number}"], stored_ids) and exact
    rate = sum(item["rps"] for item in results["inbox"]) / args.rounds
    base_rate = sum(item["rps"] for item in results["baseline"]) / args.rounds
    p50 = max(item["p50_us"] for item in results["inbox"]) / 1000
    p99 = max(item["p99_us"] for item in results["inbox"]) / 1000
    ratio = rate / base_rate if base_rate else 0.0
    print(
        f"summary   inbox {rate:.1f} msg/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms (worst round); "
        f"baseline {base_rate:.1f} req/s; ratio {ratio:.2f}"
    )
    errors = sum(item["non_2xx"] + item["socket_errors"] for item in results["inbox"])
    checks = {
        "database holds exactly the messages sent": exact,
        f"rate >= {TARGET_RATE:.0f} msg/s": rate >= TARGET_RATE,
        f"p99 < {TARGET_P99_MS:.0f} ms": p99 < TARGET_P99_MS,
        f"ratio >= {TARGET_RATIO}": ratio >= TARGET_RATIO,
        "no errors": errors == 0,
    }
    for name, passed in checks.items():
        print(f"{'ok  ' if passed else 'MISS'} {name}")
    return 0 if exact else 1


if __name__ == "__main__":
    raise SystemExit(main())
