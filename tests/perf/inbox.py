"""Benchmark of the inbox API on a large workspace (PostgreSQL; not part of the test run).

    python tests/perf/inbox.py [--conversations 100000] [--messages-per-conversation 10]

Seeds one workspace (100,000 conversations, 1,000,000 messages by default) into a
fresh PostgreSQL database with COPY, starts ``inbox serve`` (one uvicorn process)
on it, and measures through HTTP with an API token, one request at a time:
the first page of open conversations, a filtered list (assignee + tag), page 200
by cursor, a thread's latest 50 messages and a contact search. It prints p50 and
p95 for each, as milliseconds and as a ratio to ``GET /healthz`` measured in the
same run, and for any scenario whose p95 is above the target it runs the same
domain function in-process, captures its SQL and prints EXPLAIN ANALYZE.

Needs PostgreSQL at PERF_PG (default postgres://postgres@127.0.0.1) and Redis at
PERF_REDIS_URL (default redis://127.0.0.1:6379/10).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from inbox.accounts.tokens import create_api_token  # noqa: E402
from inbox.contacts.queries import list_contacts  # noqa: E402
from inbox.conversations.queries import (  # noqa: E402
    ConversationFilter,
    list_conversations,
    list_messages,
)
from inbox.models import Workspace  # noqa: E402
from inbox.workspaces.service import create_workspace  # noqa: E402
from tests.perf.perf_database import free_port, percentile, perf_database  # noqa: E402

TARGET_P95_MS = 50.0
SAMPLES = 200
WARMUP = 20
AGENTS = 10
TAGS = 20
COPY_BATCH = 50_000
PAGE = 200
FIRST_NAMES = [
    "Maria",
    "Ana",
    "João",
    "Lucas",
    "Sofia",
    "Omar",
    "Yuki",
    "Liam",
    "Emma",
    "Noah",
    "Chen",
    "Fatima",
    "Ivan",
    "Zoe",
    "Mateo",
    "Aisha",
    "Leo",
    "Nora",
]
LAST_NAMES = [
    "Lopez",
    "Souza",
    "Silva",
    "Martin",
    "Tanaka",
    "Smith",
    "Kowalski",
    "Dubois",
    "Rossi",
    "Nguyen",
    "Haddad",
    "Ivanova",
    "Okafor",
    "Schmidt",
    "Garcia",
    "Novak",
]
SEARCH_TERMS = ["Tanak", "kowal", "Haddad", "5550123"]


# ------------------------------------------------------------------ seeding
async def copy(connection: asyncpg.Connection, table: str, rows: list[dict]) -> None:
    columns = list(rows[0])
    for start in range(0, len(rows), COPY_BATCH):
        batch = [tuple(row[c] for c in columns) for row in rows[start : start + COPY_BATCH]]
        await connection.copy_records_to_table(table, records=batch, columns=columns)


async def seed(
    dsn: str,
    workspace_id: uuid.UUID,
    user_ids: list[uuid.UUID],
    conversations: int,
    per_conversation: int,
) -> dict:
    rng = random.Random(7)
    now = datetime.now(UTC)
    connection = await asyncpg.connect(dsn)
    try:
        # COPY is binary: jsonb's binary form is a version byte, then the text.
        await connection.set_type_codec(
            "jsonb",
            schema="pg_catalog",
            format="binary",
            encoder=lambda value: b"\x01" + json.dumps(value).encode(),
            decoder=lambda raw: json.loads(raw[1:]),
        )
        channels = []
        for kind in ("whatsapp", "telegram"):
            channel_id = uuid.uuid4()
            channels.append((channel_id, kind))
            await connection.execute(
                "INSERT INTO channel (id, created_at, workspace_id, kind, name, "
                "credentials_encrypted, status) VALUES ($1, $2, $3, $4, $5, '', 'active')",
                channel_id,
                now,
                workspace_id,
                kind,
                kind.title(),
            )
        tags = [
            {
                "id": uuid.uuid4(),
                "created_at": now,
                "workspace_id": workspace_id,
                "name": f"tag{n}",
                "color": "",
            }
            for n in range(TAGS)
        ]
        await copy(connection, "tag", tags)
        contacts, convs, links, messages, identities = [], [], [], [], []
        for n in range(conversations):
            last = now - timedelta(seconds=rng.randint(0, 90 * 86400), microseconds=n)
            contact_id, conversation_id = uuid.uuid4(), uuid.uuid4()
            channel_id, kind = channels[n % 2]
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {n}"
            contacts.append(
                {
                    "id": contact_id,
                    "created_at": last,
                    "workspace_id": workspace_id,
                    "display_name": name,
                    "phone": f"+1555{n:07d}",
                    "username": None,
                    "avatar_key": None,
                    "profile": {},
                    "profile_fetched_at": None,
                    "last_activity_at": last,
                    "opted_out": False,
                    "restricted": False,
                    "objected": False,
                    "legal_hold": False,
                    "updated_at": last,
                }
            )
            identities.append(
                {
                    "id": uuid.uuid4(),
                    "created_at": last,
                    "workspace_id": workspace_id,
                    "contact_id": contact_id,
                    "channel_id": channel_id,
                    "provider_user_id": f"user{n}",
                }
            )
            status = rng.choices(["open", "pending", "resolved"], [6, 2, 2])[0]
            assignee = rng.choice(user_ids) if rng.random() < 0.7 else None
            convs.append(
                {
                    "id": conversation_id,
                    "created_at": last - timedelta(days=1),
                    "workspace_id": workspace_id,
                    "channel_id": channel_id,
                    "contact_id": contact_id,
                    "status": status,
                    "assignee_id": assignee,
                    "last_message_at": last,
                    "last_message_preview": f"message about order {n}",
                    "last_inbound_at": last,
                    "unread_count": rng.randint(0, 3),
                    "resolved_at": last if status == "resolved" else None,
                }
            )
            for tag in rng.sample(tags, rng.randint(0, 2)):
                links.append(
                    {
                        "id": uuid.uuid4(),
                        "created_at": last,
                        "workspace_id": workspace_id,
                        "conversation_id": conversation_id,
                        "tag_id": tag["id"],
                    }
                )
            for k in range(per_conversation):
                inbound = k % 2 == 0
                messages.append(
                    {
                        "id": uuid.uuid4(),
                        "created_at": last - timedelta(minutes=k),
                        "workspace_id": workspace_id,
                        "conversation_id": conversation_id,
                        "channel_id": channel_id,
                        "direction": "inbound" if inbound else "outbound",
                        "kind": "text",
                        "author_user_id": None if inbound else assignee,
                        "text": f"message {k} about order {n}",
                        "provider_message_id": f"p{n}-{k}",
                        "status": "received" if inbound else "read",
                        "error_code": None,
                        "error_message": None,
                        "latitude": None,
                        "longitude": None,
                        "reply_to_id": None,
                        "template_id": None,
                        "template_variables": None,
                        "metadata": {},
                        "reactions": [],
                        "sent_at": None,
                        "delivered_at": None,
                        "read_at": None,
                        "failed_at": None,
                        "edited_at": None,
                    }
                )
        await copy(connection, "contact", contacts)
        await copy(connection, "contact_identity", identities)
        await copy(connection, "conversation", convs)
        await copy(connection, "conversation_tag", links)
        await copy(connection, "message", messages)
        await connection.execute("ANALYZE")
        busiest_assignee = max(user_ids, key=lambda u: sum(c["assignee_id"] == u for c in convs))
        return {
            "conversation_ids": [c["id"] for c in convs],
            "assignee": busiest_assignee,
            "tag": tags[0]["name"],
            "counts": {
                "conversations": len(convs),
                "messages": len(messages),
                "contacts": len(contacts),
                "tags": len(links),
            },
        }
    finally:
        await connection.close()


# ------------------------------------------------------------------ measuring
async def measure(http: httpx.AsyncClient, make_url: Callable[[int], str]) -> list[float]:
    timings = []
    for n in range(WARMUP + SAMPLES):
        started = time.perf_counter()
        answer = await http.get(make_url(n))
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != 200:
            raise SystemExit(f"{make_url(n)} answered {answer.status_code}: {answer.text[:200]}")
        if n >= WARMUP:
            timings.append(elapsed)
    return timings


class CaptureSql(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.queries: list[tuple[str, list]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(record.args or ()) == 2 and isinstance(record.args[0], str):
            query, values = record.args
            if query.lstrip().upper().startswith("SELECT"):
                self.queries.append((query, list(values or [])))


async def explain(dsn: str, name: str, work: Callable[[], Awaitable[object]]) -> None:
    """Run the scenario's domain function, capture its SQL, EXPLAIN ANALYZE each query."""
    logger = logging.getLogger("tortoise.db_client")
    capture = CaptureSql()
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    try:
        await work()
    finally:
        logger.removeHandler(capture)
    connection = await asyncpg.connect(dsn)
    try:
        for query, values in capture.queries:
            plan = await connection.fetch("EXPLAIN (ANALYZE, BUFFERS) " + query, *values)
            print(f"\n--- EXPLAIN for {name}:\n{query}\n" + "\n".join(r[0] for r in plan))
    finally:
        await connection.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-per-conversation", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    async with perf_database("inbox_perf", 10, keep=args.keep) as db:
        dsn, env = db.dsn, db.env
        server = None
        try:
            created = await create_workspace(
                "Perf", "owner@perf.test", "perf-password", slug="perf"
            )
            workspace = created.workspace
            from inbox.models import Membership, User

            user_ids = []
            for n in range(AGENTS):
                user = await User.create(email=f"agent{n}@perf.test", password_hash="x")
                await Membership.create(workspace=workspace, user=user, role="agent")
                user_ids.append(user.id)
            token = await create_api_token(workspace, "agent0@perf.test", "perf")
            started = time.perf_counter()
            seeded = await seed(
                dsn, workspace.id, user_ids, args.conversations, args.messages_per_conversation
            )
            print(f"seeded {seeded['counts']} in {time.perf_counter() - started:.0f} s")

            port = free_port()
            server = subprocess.Popen(  # noqa: ASYNC220 - a long-lived child, not awaited
                [sys.executable, "-m", "inbox.cli", "serve", "--port", str(port)],
                env=os.environ | env,
                cwd=ROOT,
            )
            base = f"http://127.0.0.1:{port}"
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
                for _ in range(300):
                    try:
                        if (await http.get("/readyz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
                conversations = seeded["conversation_ids"]
                rng = random.Random(11)
                # Page 200 by cursor: walk there once, then fetch that page repeatedly.
                cursor = None
                for _ in range(PAGE - 1):
                    page = (
                        await http.get(
                            "/api/v1/conversations", params={"cursor": cursor} if cursor else {}
                        )
                    ).json()
                    cursor = page["next_cursor"]
                assignee, tag = seeded["assignee"], seeded["tag"]
                scenarios: dict[str, Callable[[int], str]] = {
                    "baseline GET /healthz": lambda n: "/healthz",
                    "first page of open conversations": lambda n: (
                        "/api/v1/conversations?status=open"
                    ),
                    "filtered list (assignee + tag)": lambda n: (
                        f"/api/v1/conversations?assignee={assignee}&tag={tag}"
                    ),
                    f"page {PAGE} by cursor": lambda n: f"/api/v1/conversations?cursor={cursor}",
                    "thread: latest 50 messages": lambda n: (
                        f"/api/v1/conversations/{rng.choice(conversations)}/messages?limit=50"
                    ),
                    "contact search": lambda n: (
                        f"/api/v1/contacts?q={SEARCH_TERMS[n % len(SEARCH_TERMS)]}"
                    ),
                }
                results = {label: await measure(http, url) for label, url in scenarios.items()}
            baseline = percentile(results["baseline GET /healthz"], 0.95)
            print(f"\n{'scenario':38} {'p50 ms':>8} {'p95 ms':>8} {'p95/baseline':>13}")
            for label, timings in results.items():
                p95 = percentile(timings, 0.95)
                flag = (
                    "" if p95 < TARGET_P95_MS or label.startswith("baseline") else "  ABOVE TARGET"
                )
                print(
                    f"{label:38} {statistics.median(timings):8.1f} {p95:8.1f} "
                    f"{p95 / baseline:13.1f}{flag}"
                )

            viewer = user_ids[0]
            in_process: dict[str, Callable[[], Awaitable[object]]] = {
                "first page of open conversations": lambda: list_conversations(
                    workspace, viewer, ConversationFilter(status="open")
                ),
                "filtered list (assignee + tag)": lambda: list_conversations(
                    workspace, viewer, ConversationFilter(assignee=str(assignee), tag=tag)
                ),
                f"page {PAGE} by cursor": lambda: list_conversations(
                    workspace, viewer, ConversationFilter(), cursor=cursor
                ),
                "thread: latest 50 messages": lambda: list_messages(
                    workspace, conversations[0], limit=50
                ),
                "contact search": lambda: list_contacts(workspace, SEARCH_TERMS[0]),
            }
            for label, work in in_process.items():
                if percentile(results[label], 0.95) >= TARGET_P95_MS:
                    await explain(dsn, label, work)
            assert isinstance(workspace, Workspace)
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())
