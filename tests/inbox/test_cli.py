"""The inbox command line, run as a user runs it: a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inbox.settings import Settings

CLI_TIMEOUT = 60


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update(
        DATA_DIR=str(settings.data_dir),
        DATABASE_URL=settings.database_url or "",
        MASTER_KEY=settings.master_key or "",
        PUBLIC_URL="https://inbox.example.test",
    )
    return subprocess.run(
        [sys.executable, "-m", "inbox.cli", *args],
        capture_output=True, text=True, env=env, timeout=CLI_TIMEOUT, check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr


@pytest.fixture
def cli_settings(settings: Settings, db: None) -> Settings:
    """The test's settings over emptied tables (the CLI connects on its own)."""
    return settings


def test_create_workspace_prints_json_and_refuses_a_taken_slug(cli_settings: Settings) -> None:
    first = run_cli(cli_settings, "create-workspace", "--name", "Acme Shop",
                    "--admin-email", "Owner@Acme.test", "--json")
    assert first.returncode == 0, first.stderr
    created = json.loads(first.stdout)
    assert created["slug"] == "acme-shop"
    assert len(created["id"]) == 36
    assert len(created["admin_password"]) >= 12  # generated, shown once

    again = run_cli(cli_settings, "create-workspace", "--name", "Acme Shop",
                    "--admin-email", "x@acme.test", "--admin-password", "long-enough")
    assert_one_line_error(again, "slug 'acme-shop' already exists")


def test_bad_arguments_are_one_line_and_exit_2(cli_settings: Settings) -> None:
    assert_one_line_error(run_cli(cli_settings, "create-workspace", "--name"), "expected one")
    assert_one_line_error(
        run_cli(cli_settings, "create-workspace", "--name", "X", "--admin-email", "not-mail"),
        "not a valid e-mail",
    )
    assert_one_line_error(
        run_cli(cli_settings, "create-workspace", "--name", "X", "--slug", "Bad Slug!",
                "--admin-email", "a@b.test"),
        "slug",
    )
    assert_one_line_error(run_cli(cli_settings, "no-such-command"), "invalid choice")
    assert_one_line_error(
        run_cli(cli_settings, "create-token", "--workspace", "missing", "--email", "a@b.test"),
        "no workspace",
    )


def test_every_command_has_help(cli_settings: Settings) -> None:
    for command in ("serve", "worker", "migrate", "demo", "create-workspace", "create-token",
                    "create-channel"):
        result = run_cli(cli_settings, command, "--help")
        assert result.returncode == 0, command
        assert "usage: inbox" in result.stdout


def test_create_token_prints_a_token_stored_only_hashed(cli_settings: Settings) -> None:
    run_cli(cli_settings, "create-workspace", "--name", "Shop", "--admin-email", "a@shop.test",
            "--admin-password", "long-enough")
    result = run_cli(cli_settings, "create-token", "--workspace", "shop", "--email", "a@shop.test",
                     "--name", "zapier")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert token.startswith("ibx_") and len(token) > 40
    stranger = run_cli(cli_settings, "create-token", "--workspace", "shop",
                       "--email", "nobody@shop.test")
    assert_one_line_error(stranger, "no member")


def test_create_channel_prints_its_webhook_urls(cli_settings: Settings) -> None:
    run_cli(cli_settings, "create-workspace", "--name", "Shop", "--admin-email", "a@shop.test",
            "--admin-password", "long-enough")
    credentials = {
        "account_sid": "AC9af211329b2fc82e5efe906062c73008",
        "auth_token": "0123456789abcdef0123456789abcdef",
        "from_number": "whatsapp:+15550100000",
    }
    result = run_cli(cli_settings, "create-channel", "--workspace", "shop", "--kind", "whatsapp",
                     "--name", "Support", "--credentials", json.dumps(credentials), "--json")
    assert result.returncode == 0, result.stderr
    channel = json.loads(result.stdout)
    base = f"https://inbox.example.test/webhooks/twilio/{channel['id']}"
    assert channel["webhook_url"] == base
    assert channel["status_callback_url"] == base + "/status"
    assert "auth_token" not in result.stdout and credentials["auth_token"] not in result.stdout


def test_create_channel_refuses_bad_credentials(cli_settings: Settings) -> None:
    run_cli(cli_settings, "create-workspace", "--name", "Shop", "--admin-email", "a@shop.test",
            "--admin-password", "long-enough")
    base = ("create-channel", "--workspace", "shop", "--kind", "messenger", "--name", "Page")
    assert_one_line_error(run_cli(cli_settings, *base, "--credentials", "{nope"), "JSON")
    missing = run_cli(cli_settings, *base, "--credentials", json.dumps({"page_id": "1"}))
    assert_one_line_error(missing, "page_access_token")
    extra = {"page_id": "1", "page_access_token": "t", "app_secret": "s", "verify_token": "v",
             "colour": "blue"}
    assert_one_line_error(run_cli(cli_settings, *base, "--credentials", json.dumps(extra)),
                          "colour")


def test_migrate_is_idempotent(cli_settings: Settings, tmp_path: Path) -> None:
    for _ in range(2):
        result = run_cli(cli_settings, "migrate")
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout
