"""The one-year rule for connection data, its export for lawful requests, and the
retention command line (run as a user runs it: a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from inbox.errors import InvalidInput
from inbox.models import Message, SystemLog, User
from inbox.models.privacy import SYSTEM_LOG_MAX_DAYS
from inbox.privacy.system_log import (
    export_system_logs,
    parse_period,
    purge_expired_system_logs,
)
from inbox.settings import Settings
from inbox.tenancy import scoped
from tests.inbox.privacy.retention_factory import (
    NOW,
    make_channel,
    make_conversation,
    make_message,
    make_workspace,
)
from workers.system_log import purge_system_logs

CLI_TIMEOUT = 60


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update(
        DATA_DIR=str(settings.data_dir),
        DATABASE_URL=settings.database_url or "",
        MASTER_KEY=settings.master_key or "",
    )
    return subprocess.run(
        [sys.executable, "-m", "inbox.cli", *args],
        capture_output=True, text=True, env=env, timeout=CLI_TIMEOUT, check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert "Traceback" not in result.stderr


async def log(at: datetime, **fields) -> SystemLog:
    fields.setdefault("event", "login")
    return await SystemLog.create(at=at, **fields)


async def test_rows_older_than_a_year_go_one_second_after_the_limit(db) -> None:
    limit = NOW - timedelta(days=SYSTEM_LOG_MAX_DAYS)
    older = await log(limit - timedelta(seconds=1))
    exactly = await log(limit)
    younger = await log(limit + timedelta(seconds=1))

    assert await purge_system_logs({"now": NOW}) == 1

    left = set(await SystemLog.all().values_list("id", flat=True))
    assert left == {exactly.id, younger.id}
    assert older.id not in left


async def test_the_purge_goes_in_batches_until_done(db) -> None:
    old = NOW - timedelta(days=SYSTEM_LOG_MAX_DAYS + 3)
    await SystemLog.bulk_create([SystemLog(at=old, event="api_token") for _ in range(2500)])
    await log(NOW)

    assert await purge_expired_system_logs(NOW) == 2500
    assert await SystemLog.all().count() == 1


def test_no_setting_can_lengthen_the_year(settings: Settings) -> None:
    assert SYSTEM_LOG_MAX_DAYS == 365
    assert not [name for name in type(settings).model_fields if "log" in name and "day" in name]


async def test_export_streams_a_period_filtered_by_ip_or_user(db) -> None:
    user = await User.create(email="ops@acme.test", password_hash="x")
    other = await User.create(email="someone@acme.test", password_hash="x")
    workspace = await make_workspace()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    await log(start - timedelta(seconds=1), ip="10.0.0.1", user=user)  # before the period
    first = await log(start, ip="10.0.0.1", user=user, user_agent="UA/1",
                      workspace_id=workspace.id)
    await log(start + timedelta(hours=1), ip="10.0.0.2", user=other, event="logout")
    await log(start + timedelta(days=31), ip="10.0.0.1", user=user)  # after it
    since, until = parse_period("2026-01-01", "2026-01-31")

    rows = [json.loads(line) async for line in export_system_logs(since, until)]
    assert [row["user_email"] for row in rows] == ["ops@acme.test", "someone@acme.test"]
    assert rows[0] == {
        "time": first.at.isoformat(), "event": "login", "ip": "10.0.0.1",
        "user_agent": "UA/1", "user_email": "ops@acme.test",
        "workspace_id": str(workspace.id),
    }
    by_ip = [json.loads(line) async for line in export_system_logs(since, until, ip="10.0.0.2")]
    assert [row["event"] for row in by_ip] == ["logout"]
    by_user = [
        json.loads(line)
        async for line in export_system_logs(since, until, email="OPS@acme.test")
    ]
    assert [row["ip"] for row in by_user] == ["10.0.0.1"]
    nobody = [line async for line in export_system_logs(since, until, email="x@y.test")]
    assert nobody == []


async def test_export_pages_through_many_rows_in_order(db) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    await SystemLog.bulk_create(
        [SystemLog(at=start + timedelta(seconds=i // 3), event="api_token") for i in range(2100)]
    )
    since, until = parse_period("2026-03-01", "2026-03-02")
    times = [json.loads(line)["time"] async for line in export_system_logs(since, until)]
    assert len(times) == 2100
    assert times == sorted(times)


@pytest.mark.parametrize(
    ("since", "until"),
    [("2026-13-01", "2026-01-02"), ("yesterday", "2026-01-02"), ("2026-02-01", "2026-01-01")],
)
def test_bad_periods_are_refused(since: str, until: str) -> None:
    with pytest.raises(InvalidInput):
        parse_period(since, until)


def test_a_time_with_an_offset_is_read_as_utc() -> None:
    since, until = parse_period("2026-01-01T10:00:00+02:00", "2026-01-01T12:00:00")
    assert since == datetime(2026, 1, 1, 8, tzinfo=UTC)
    assert until == datetime(2026, 1, 1, 12, tzinfo=UTC)


async def test_syslog_export_command_prints_ndjson(settings: Settings, db) -> None:
    user = await User.create(email="ops@acme.test", password_hash="x")
    await log(datetime(2026, 1, 5, tzinfo=UTC), ip="192.0.2.7", user=user, user_agent="UA")
    await log(datetime(2026, 1, 6, tzinfo=UTC), ip="192.0.2.8")

    result = run_cli(settings, "syslog", "export", "--since", "2026-01-01",
                     "--until", "2026-01-31", "--ip", "192.0.2.7")

    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert json.loads(line)["user_email"] == "ops@acme.test"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--since", "2026-01-32", "--until", "2026-02-01"), "--since must be a date"),
        (("--since", "2026-01-01", "--until", "soon"), "--until must be a date"),
        (("--since", "2026-02-01", "--until", "2026-01-01"), "before --until"),
        (("--since", "2026-01-01", "--until", "2026-02-01", "--ip", "300.1.1.1"), "--ip"),
        (("--since", "2026-01-01", "--until", "2026-02-01", "--email", "nobody"), "e-mail"),
    ],
)
def test_syslog_export_command_refuses_bad_input(settings: Settings, args, fragment) -> None:
    assert_one_line_error(run_cli(settings, "syslog", "export", *args), fragment)


async def test_retention_run_command_dry_run_then_run(settings: Settings, db) -> None:
    workspace = await make_workspace("acme", messages_days=30)
    channel = await make_channel(settings, workspace)
    conversation = await make_conversation(workspace, channel)
    await make_message(conversation, datetime.now(UTC) - timedelta(days=31))
    await make_message(conversation, datetime.now(UTC) - timedelta(days=1))

    dry = run_cli(settings, "retention", "run", "--workspace", "acme", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.strip() == "acme: would delete (messages 1)"
    assert await scoped(Message, workspace).count() == 2

    done = run_cli(settings, "retention", "run")
    assert done.returncode == 0, done.stderr
    assert "acme: finished (messages 1)" in done.stdout
    assert await scoped(Message, workspace).count() == 1

    missing = run_cli(settings, "retention", "run", "--workspace", "nope")
    assert_one_line_error(missing, "no workspace with that slug")
