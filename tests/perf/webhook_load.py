"""The load of the ingest benchmark: a workspace with one channel per provider, and
signed webhook requests for it, written one per line for the wrk replay script.

Each request carries a new message (distinct provider ids), from a pool of
senders per provider, so the run mixes first contacts with known ones.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from inbox.crypto import encrypt_json
from inbox.models import Channel, ChannelKind
from inbox.settings import Settings
from inbox.workspaces.channels import external_id_for
from inbox.workspaces.service import create_workspace
from tests.signing import messenger_signature, twilio_signature

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "perf-auth-token"
CHANNEL_NUMBER = "+15550100000"
BOT_TOKEN = "7000000001:perf-bot-token-0123456789"
TELEGRAM_SECRET = "perf-webhook-secret"
PAGE_ID = "101234567890123"
APP_SECRET = "perf-app-secret"
SENDERS_PER_PROVIDER = 100  # most messages come from ongoing conversations
UNIT_SEPARATOR = "\x1f"
CREDENTIALS = {
    "whatsapp": {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from_number": f"whatsapp:{CHANNEL_NUMBER}",
    },
    "telegram": {"bot_token": BOT_TOKEN},
    "messenger": {
        "page_id": PAGE_ID,
        "page_access_token": "perf-page-token",
        "app_secret": APP_SECRET,
        "verify_token": "perf-verify",
    },
}


@dataclass
class Target:
    settings: Settings
    channels: dict[str, Channel]


async def seed_channels(settings: Settings) -> dict[str, Channel]:
    """A workspace and its three channels (Telegram's webhook is not registered)."""
    assert settings.master_key
    created = await create_workspace("Perf", "perf@example.test", "perf-password", slug="perf")
    channels = {}
    for kind, credentials in CREDENTIALS.items():
        channels[kind] = await Channel.create(
            workspace_id=created.workspace.id,
            kind=kind,
            name=f"perf {kind}",
            credentials_encrypted=encrypt_json(settings.master_key, credentials),
            webhook_secret=TELEGRAM_SECRET if kind == "telegram" else None,
            external_id=external_id_for(ChannelKind(kind), credentials),
        )
    return channels


def format_line(path: str, headers: dict[str, str], body: bytes) -> str:
    text = body.decode()
    if "\t" in text or "\n" in text:
        raise ValueError("a replay body must hold no tab or newline")
    header_field = UNIT_SEPARATOR.join(f"{name}: {value}" for name, value in headers.items())
    return f"POST\t{path}\t{header_field}\t{text}\n"


def twilio_line(public_url: str, channel: Channel, run: str, number: int) -> tuple[str, str]:
    path = f"/webhooks/twilio/{channel.id}"
    sender = f"+1555{number % SENDERS_PER_PROVIDER:07d}"
    sid = f"SM{run}{number:024x}"[:34]
    params = {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ProfileName": f"Sender {number % SENDERS_PER_PROVIDER}",
        "MessageType": "text",
        "SmsSid": sid,
        "WaId": sender.lstrip("+"),
        "SmsStatus": "received",
        "Body": f"Message number {number}",
        "To": f"whatsapp:{CHANNEL_NUMBER}",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": f"whatsapp:{sender}",
        "ApiVersion": "2010-04-01",
    }
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_signature(AUTH_TOKEN, public_url + path, params),
    }
    return format_line(path, headers, urlencode(params).encode()), sid


def telegram_line(channel: Channel, run_number: int, number: int) -> tuple[str, str]:
    user_id = 5_000_000_000 + number % SENDERS_PER_PROVIDER
    user = {"id": user_id, "is_bot": False, "first_name": "Ana", "username": f"user{user_id}"}
    update = {
        "update_id": run_number * 10_000_000 + number,
        "message": {
            "message_id": run_number * 10_000_000 + number,
            "from": user,
            "chat": {"id": user_id, "first_name": "Ana", "type": "private"},
            "date": int(time.time()),
            "text": f"Message number {number}",
        },
    }
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
    }
    body = json.dumps(update, separators=(",", ":")).encode()
    message_key = f"{user_id}:{update['message']['message_id']}"
    return format_line(f"/webhooks/telegram/{channel.id}", headers, body), message_key


def messenger_line(channel: Channel, run: str, number: int) -> tuple[str, str]:
    now = int(time.time() * 1000)
    psid = str(24_000_000_000_000_000 + number % SENDERS_PER_PROVIDER)
    payload = {
        "object": "page",
        "entry": [
            {
                "id": PAGE_ID,
                "time": now,
                "messaging": [
                    {
                        "sender": {"id": psid},
                        "recipient": {"id": PAGE_ID},
                        "timestamp": now,
                        "message": {"mid": f"m_{run}_{number}", "text": f"Message {number}"},
                    }
                ],
            }
        ],
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": messenger_signature(APP_SECRET, body),
    }
    return format_line(f"/webhooks/messenger/{channel.id}", headers, body), f"m_{run}_{number}"


def build_lines(
    public_url: str, channels: dict[str, Channel], run: str, run_number: int, count: int
) -> Iterator[tuple[str, str]]:
    """``count`` (request line, provider message id) pairs cycling through the providers."""
    for number in range(count):
        provider = number % 3
        if provider == 0:
            yield twilio_line(public_url, channels["whatsapp"], run, number)
        elif provider == 1:
            yield telegram_line(channels["telegram"], run_number, number)
        else:
            yield messenger_line(channels["messenger"], run, number)


def write_requests(path: Path, lines: Iterator[tuple[str, str]]) -> list[str]:
    """Write the request lines; returns the provider message id of each line."""
    ids = []
    with path.open("w") as handle:
        for line, provider_message_id in lines:
            handle.write(line)
            ids.append(provider_message_id)
    return ids
