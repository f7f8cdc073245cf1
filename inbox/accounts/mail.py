"""Outgoing e-mail through SMTP_URL (skipped when it is not set).

``SMTP_URL`` forms: ``smtp://host:port`` (plain), ``smtp+starttls://user:pass@host:587``,
``smtps://user:pass@host:465`` (TLS from the start). The send runs in a thread:
smtplib blocks.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from inbox.settings import Settings

logger = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 20
DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


def build_message(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def deliver(smtp_url: str, message: EmailMessage) -> None:
    """Send one message (blocking)."""
    parts = urlsplit(smtp_url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError("SMTP_URL must start with smtp://, smtp+starttls:// or smtps://")
    host = parts.hostname or "localhost"
    port = parts.port or DEFAULT_PORTS[scheme]
    if scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
    with client:
        if scheme == "smtp+starttls":
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)


async def send_mail(settings: Settings, to: str, subject: str, body: str) -> bool:
    """Send when SMTP_URL is configured; returns whether a message went out."""
    if not settings.smtp_url:
        return False
    message = build_message(settings, to, subject, body)
    try:
        await asyncio.to_thread(deliver, settings.smtp_url, message)
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        logger.warning("mail not sent", extra={"error_type": type(exc).__name__})
        return False
    return True
