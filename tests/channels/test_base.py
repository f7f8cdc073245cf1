"""The adapter interface: credentials, factory, webhook secrets, requests, errors."""

from __future__ import annotations

import ast
import dataclasses
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from channels import (
    InvalidCredentials,
    OutboundMessage,
    ProviderEndpoints,
    WebhookRequest,
    generate_webhook_secret,
    get_adapter,
    validate_credentials,
)
from channels.errors import ProviderError, parse_retry_after, redact_personal_data
from channels.events import ContactProfile, InboundMessage
from channels.messenger import MessengerAdapter
from channels.telegram import TelegramAdapter
from channels.twilio import TwilioAdapter

CHANNELS_DIR = Path(__file__).resolve().parents[2] / "channels"
SECRET_VALUE = "super-secret-value-123"


@pytest.mark.parametrize(
    ("kind", "fixture_name", "adapter_class"),
    [
        ("whatsapp", "twilio_credentials", TwilioAdapter),
        ("telegram", "telegram_credentials", TelegramAdapter),
        ("messenger", "messenger_credentials", MessengerAdapter),
    ],
)
def test_get_adapter_builds_each_kind(
    request: pytest.FixtureRequest, kind: str, fixture_name: str, adapter_class: type
) -> None:
    credentials = request.getfixturevalue(fixture_name)
    assert validate_credentials(kind, credentials) == credentials
    adapter = get_adapter(kind, credentials)
    assert isinstance(adapter, adapter_class)
    assert adapter.kind == kind
    assert adapter.endpoints == ProviderEndpoints()


def test_default_endpoints_are_the_real_providers() -> None:
    assert ProviderEndpoints() == ProviderEndpoints(
        "https://api.twilio.com", "https://api.telegram.org", "https://graph.facebook.com"
    )


def test_optional_messaging_service_sid(twilio_credentials: dict[str, str]) -> None:
    credentials = dict(twilio_credentials, messaging_service_sid="MG" + "a" * 32)
    assert validate_credentials("whatsapp", credentials) == credentials


@pytest.mark.parametrize(
    ("kind", "change", "named_key"),
    [
        ("whatsapp", {"auth_token": None}, "auth_token"),
        ("whatsapp", {"extra": SECRET_VALUE}, "extra"),
        ("whatsapp", {"from_number": "+15550100000"}, "from_number"),
        ("whatsapp", {"account_sid": SECRET_VALUE}, "account_sid"),
        ("whatsapp", {"messaging_service_sid": SECRET_VALUE}, "messaging_service_sid"),
        ("telegram", {"bot_token": SECRET_VALUE}, "bot_token"),
        ("telegram", {"bot_token": None}, "bot_token"),
        ("messenger", {"page_id": "my-page"}, "page_id"),
        ("messenger", {"app_secret": ""}, "app_secret"),
        ("messenger", {"verify_token": 42}, "verify_token"),
        ("messenger", {"page_access_token": None}, "page_access_token"),
    ],
)
def test_invalid_credentials_name_the_key_never_the_value(
    request: pytest.FixtureRequest, kind: str, change: dict, named_key: str
) -> None:
    fixture_name = {"whatsapp": "twilio_credentials"}.get(kind, f"{kind}_credentials")
    credentials = dict(request.getfixturevalue(fixture_name))
    for key, value in change.items():
        if value is None:
            del credentials[key]
        else:
            credentials[key] = value
    with pytest.raises(InvalidCredentials) as caught:
        validate_credentials(kind, credentials)
    assert isinstance(caught.value, ValueError)
    assert repr(named_key) in str(caught.value)
    assert SECRET_VALUE not in str(caught.value)
    with pytest.raises(InvalidCredentials):
        get_adapter(kind, credentials)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(InvalidCredentials, match="unknown channel kind"):
        validate_credentials("sms", {})
    with pytest.raises(InvalidCredentials, match="unknown channel kind"):
        get_adapter("sms", {})


def test_generated_webhook_secrets_are_valid_telegram_secret_tokens() -> None:
    secrets = {generate_webhook_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret)
        assert len(secret) >= 32


def test_webhook_request_headers_are_case_insensitive_and_not_shown() -> None:
    request = WebhookRequest(url="https://x", body=b"", headers={"X-Hub-Signature-256": "abc"})
    assert request.headers.get("x-hub-signature-256") == "abc"
    assert request.headers["X-HUB-SIGNATURE-256"] == "abc"
    assert request.headers.get("missing") is None
    assert "abc" not in repr(request.headers)
    assert request.method == "POST"


async def test_base_register_webhook_is_a_no_op_for_others(
    twilio_adapter: TwilioAdapter, messenger_adapter: MessengerAdapter
) -> None:
    assert await twilio_adapter.register_webhook("https://x/hook", "secret") is None
    assert await messenger_adapter.register_webhook("https://x/hook", "secret") is None


def test_outbound_message_needs_text_or_template() -> None:
    with pytest.raises(ValueError, match="text or a template"):
        OutboundMessage(to="1")
    assert OutboundMessage(to="1", template_id="HX1").text is None


def test_events_are_frozen() -> None:
    event = InboundMessage(
        provider_message_id="1",
        provider_user_id="2",
        account_id=None,
        sent_at=datetime.now(UTC),
        kind="text",
        text="x",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.text = "y"  # type: ignore[misc]
    assert event.profile == ContactProfile()


def test_parse_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") == 0.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    assert 100 < (parse_retry_after(later) or 0) <= 120


def test_redaction_of_provider_error_text() -> None:
    text = (
        "Invalid 'To' Phone Number: whatsapp:+1 (555) 555-0123, "
        "user ana@example.com, token 7000000001:AAH-fake_token_for_tests_0123456789, "
        "error 63016 (#100)"
    )
    redacted = redact_personal_data(text)
    assert "555" not in redacted
    assert "ana@example.com" not in redacted
    assert "AAH-fake" not in redacted
    assert "63016" in redacted
    assert "(#100)" in redacted


def test_provider_error_text_stays_generic() -> None:
    error = ProviderError("21211", "Invalid number +15555550123", retryable=False, status=400)
    assert "555" not in str(error)
    assert "21211" in str(error)
    assert error.message == "Invalid number [number]"


def test_channels_never_import_the_inbox() -> None:
    offenders = []
    for path in sorted(CHANNELS_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {name}"
                for name in names
                if name.split(".")[0] in ("inbox", "workers")
            ]
    assert offenders == []
