"""Benchmark of the retention run on a large workspace (PostgreSQL; not part of the test run).

    python tests/perf/retention.py [--conversations 20000] [--expired 50] [--kept 50]

Seeds one workspace into a fresh PostgreSQL database with COPY: by default 20,000
conversations of 50 expired messages (31 to 401 days old) and 50 kept ones (the
last 29 days) each, so 1,000,000 expired messages among 1,000,000 kept ones, every
message with an attachment row, and a real file for one expired attachment in
FILE_EVERY. Rows are written in the order production writes them (by time), and
conversations carry random unread counts. The policy keeps messages 30 days.

It starts ``inbox serve`` (one uvicorn process), measures the first page of open
conversations over HTTP while idle (the baseline), then runs ``inbox retention run
--workspace perf`` in its own process, as a worker would, and measures the same
page again, 20 times a second, for as long as the run lasts.

It prints the deletion throughput (target >= 50,000 messages/s, from the run's
own duration), and the conversation list's p50/p95/p99 while the run works
(target p99 < 100 ms), with their ratio to the idle baseline.

Needs PostgreSQL at PERF_PG (default postgres://postgres@127.0.0.1) and Redis at
PERF_REDIS_URL (default redis://127.0.0.1:6379/11).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from inbox.accounts.tokens import create_api_token  # noqa: E402
from inbox.models import RetentionPolicy, RetentionRun  # noqa: E402
from inbox.tenancy import scoped  # noqa: E402
from inbox.workspaces.service import create_workspace  # noqa: E402
from tests.perf.perf_database import free_port, percentile, perf_database  # noqa: E402

TARGET_MESSAGES_PER_SECOND = 50_000
TARGET_P99_MS = 100.0
MESSAGES_DAYS = 30
BASELINE_SAMPLES = 300
FILE_EVERY = 100  # one expired attachment in this many has a real file
KEPT_SECONDS = (MESSAGES_DAYS - 1) * 86400  # kept messages: the last 29 days
LIST_URL = "/api/v1/conversations?status=open"
# Agents' inboxes asking for the list 20 times a second in all: a busy team, and
# not a client hammering one of the machine's two cores back to back.
LIST_INTERVAL_SECONDS = 0.05


def message_row(workspace_id, conversation_id, channel_id, n, k, at) -> tuple:
    inbound = k % 2 == 0
    return (
        uuid.uuid4(),
        at,
        workspace_id,
        conversation_id,
        channel_id,
        "inbound" if inbound else "outbound",
        "text",
        f"message {k} about order {n}",
        f"p{n}-{k}",
        "received" if inbound else "read",
        {},
        [],
    )


MESSAGE_COLUMNS = [
    "id",
    "created_at",
    "workspace_id",
    "conversation_id",
    "channel_id",
    "direction",
    "kind",
    "text",
    "provider_message_id",
    "status",
    "metadata",
    "reactions",
]
ATTACHMENT_COLUMNS = [
    "id",
    "created_at",
    "workspace_id",
    "message_id",
    "position",
    "kind",
    "media_type",
    "size",
    "storage_key",
    "download_status",
]
CONTACT_COLUMNS = [
    "id",
    "created_at",
    "workspace_id",
    "display_name",
    "profile",
    "last_activity_at",
    "opted_out",
    "restricted",
    "objected",
    "legal_hold",
    "updated_at",
]
CONVERSATION_COLUMNS = [
    "id",
    "created_at",
    "workspace_id",
    "channel_id",
    "contact_id",
    "status",
    "last_message_at",
    "last_inbound_at",
    "last_message_preview",
    "unread_count",
]


async def copy(connection: asyncpg.Connection, table: str, rows: list, columns: list) -> None:
    await connection.copy_records_to_table(table, records=rows, columns=columns)


async def seed(
    dsn: str, storage: Path, workspace_id: uuid.UUID, conversations: int, expired: int, kept: int
) -> dict[str, int]:
    """Rows in the order production writes them: messages (and their attachments)
    in time order, each round giving every conversation one message."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    connection = await asyncpg.connect(dsn)
    counts = {"expired_messages": 0, "kept_messages": 0, "files": 0}
    try:
        await connection.set_type_codec(
            "jsonb",
            schema="pg_catalog",
            format="binary",
            encoder=lambda value: b"\x01" + json.dumps(value).encode(),
            decoder=lambda raw: json.loads(raw[1:]),
        )
        channel_id = uuid.uuid4()
        await connection.execute(
            "INSERT INTO channel (id, created_at, workspace_id, kind, name, "
            "credentials_encrypted, status) VALUES ($1, $2, $3, 'telegram', 'Bot', '', "
            "'active')",
            channel_id,
            now,
            workspace_id,
        )
        long_ago = now - timedelta(days=500)
        conversation_ids = [uuid.uuid4() for _ in range(conversations)]
        contact_ids = [uuid.uuid4() for _ in range(conversations)]
        await copy(
            connection,
            "contact",
            [
                (
                    contact_ids[n],
                    long_ago,
                    workspace_id,
                    f"Contact {n}",
                    {},
                    now,
                    False,
                    False,
                    False,
                    False,
                    now,
                )
                for n in range(conversations)
            ],
            CONTACT_COLUMNS,
        )
        await copy(
            connection,
            "conversation",
            [
                (
                    conversation_ids[n],
                    long_ago,
                    workspace_id,
                    channel_id,
                    contact_ids[n],
                    rng.choice(["open", "open", "pending"]),
                    now,
                    now,
                    f"message about order {n}",
                    rng.randint(0, 3),
                )
                for n in range(conversations)
            ],
            CONVERSATION_COLUMNS,
        )
        rounds = [(k < expired, k) for k in range(expired + kept)]
        old_span = (370 * 86400) / max(expired * conversations, 1)
        new_span = KEPT_SECONDS / max(kept * conversations, 1)
        sequence = 0
        for is_expired, k in rounds:
            order = list(range(conversations))
            rng.shuffle(order)
            messages, attachments = [], []
            for n in order:
                if is_expired:
                    at = (
                        now
                        - timedelta(days=MESSAGES_DAYS + 371)
                        + timedelta(seconds=old_span * sequence)
                    )
                else:
                    at = (
                        now
                        - timedelta(seconds=KEPT_SECONDS + 60)
                        + timedelta(seconds=new_span * (sequence - expired * conversations))
                    )
                sequence += 1
                row = message_row(workspace_id, conversation_ids[n], channel_id, n, k, at)
                messages.append(row)
                key = None
                if is_expired and sequence % FILE_EVERY == 0:
                    key = f"{workspace_id}/perf/{row[0]}.bin"
                    (storage / key).parent.mkdir(parents=True, exist_ok=True)
                    (storage / key).write_bytes(b"x")
                    counts["files"] += 1
                attachments.append(
                    (
                        uuid.uuid4(),
                        at,
                        workspace_id,
                        row[0],
                        0,
                        "image",
                        "image/jpeg",
                        1000,
                        key,
                        "stored",
                    )
                )
            await copy(connection, "message", messages, MESSAGE_COLUMNS)
            await copy(connection, "attachment", attachments, ATTACHMENT_COLUMNS)
            counts["expired_messages" if is_expired else "kept_messages"] += len(messages)
        await connection.execute(
            "UPDATE conversation c SET last_message_at = m.newest, last_inbound_at = m.newest "
            "FROM (SELECT conversation_id, max(created_at) AS newest FROM message "
            "GROUP BY conversation_id) m WHERE c.id = m.conversation_id"
        )
        await connection.execute("UPDATE contact SET last_activity_at = $1", now)
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    return counts


async def measure_while(http: httpx.AsyncClient, running: asyncio.Task) -> list[float]:
    """The list, every LIST_INTERVAL_SECONDS (an inbox in use), while the run lasts."""
    timings = []
    while not running.done():
        started = time.perf_counter()
        answer = await http.get(LIST_URL)
        elapsed = time.perf_counter() - started
        timings.append(elapsed * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{LIST_URL} answered {answer.status_code}")
        await asyncio.sleep(max(0.0, LIST_INTERVAL_SECONDS - elapsed))
    return timings


async def wait_ready(http: httpx.AsyncClient) -> None:
    for _ in range(300):
        try:
            if (await http.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("the server did not start")


def report(label: str, timings: list[float], baseline: float) -> None:
    p99 = percentile(timings, 0.99)
    print(
        f"{label:34} {len(timings):7d} {statistics.median(timings):8.1f} "
        f"{percentile(timings, 0.95):8.1f} {p99:8.1f} {p99 / baseline:12.2f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--expired", type=int, default=50, help="expired messages each")
    parser.add_argument("--kept", type=int, default=50, help="kept messages each")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    async with perf_database("inbox_perf_retention", 11, keep=args.keep) as db:
        dsn, env, settings = db.dsn, db.env, db.settings
        server = None
        try:
            created = await create_workspace(
                "Perf", "owner@perf.test", "perf-password", slug="perf"
            )
            workspace = created.workspace
            await scoped(RetentionPolicy, workspace).update(
                messages_days=MESSAGES_DAYS, exports_days=None
            )
            token = await create_api_token(workspace, "owner@perf.test", "perf")
            started = time.perf_counter()
            seeded = await seed(
                dsn, settings.storage_dir, workspace.id, args.conversations, args.expired, args.kept
            )
            print(
                f"seeded {seeded} (+ one attachment row per message) "
                f"in {time.perf_counter() - started:.0f} s"
            )

            port = free_port()
            server = subprocess.Popen(  # noqa: ASYNC220 - a long-lived child, not awaited
                [sys.executable, "-m", "inbox.cli", "serve", "--port", str(port)],
                env=os.environ | env,
                cwd=ROOT,
            )
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30
            ) as http:
                await wait_ready(http)
                idle = []
                for n in range(BASELINE_SAMPLES + 20):
                    began = time.perf_counter()
                    (await http.get(LIST_URL)).raise_for_status()
                    if n >= 20:
                        idle.append((time.perf_counter() - began) * 1000)
                run = asyncio.create_task(
                    asyncio.to_thread(
                        subprocess.run,
                        [
                            sys.executable,
                            "-m",
                            "inbox.cli",
                            "retention",
                            "run",
                            "--workspace",
                            "perf",
                        ],
                        env=os.environ | env,
                        cwd=ROOT,
                        capture_output=True,
                        text=True,
                        check=False,
                    )
                )
                busy = await measure_while(http, run)
                outcome = run.result()
            if outcome.returncode != 0:
                raise SystemExit(f"retention run failed: {outcome.stderr[-2000:]}")
            print(outcome.stdout.strip())
            record = await scoped(RetentionRun, workspace).order_by("-started_at").first()
            assert record is not None and record.duration_ms
            deleted = record.deleted["messages"]
            left_files = sum(1 for _ in (settings.storage_dir / str(workspace.id)).rglob("*.bin"))
            rate = deleted / (record.duration_ms / 1000)
            print(
                f"\ndeleted {deleted:,} messages, {record.deleted['attachments']:,} attachments, "
                f"{record.deleted['files']:,} files in {record.duration_ms / 1000:.1f} s: "
                f"{rate:,.0f} messages/s (target {TARGET_MESSAGES_PER_SECOND:,}; "
                f"{rate / TARGET_MESSAGES_PER_SECOND:.2f} x target); files left: {left_files}"
            )
            if deleted != seeded["expired_messages"]:
                print(f"MISMATCH: expected {seeded['expired_messages']:,} deleted")
            baseline = percentile(idle, 0.99)
            print(
                f"\n{'GET ' + LIST_URL:34} {'samples':>7} {'p50 ms':>8} {'p95 ms':>8} "
                f"{'p99 ms':>8} {'p99/idle p99':>12}"
            )
            report("idle (baseline)", idle, baseline)
            report("while retention runs", busy, baseline)
            verdict = "below" if percentile(busy, 0.99) < TARGET_P99_MS else "ABOVE"
            print(f"p99 while running is {verdict} the {TARGET_P99_MS:.0f} ms target")
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())
