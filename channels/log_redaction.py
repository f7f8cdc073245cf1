"""Keep secrets and message contents that provider SDKs log out of our logs.

Telegram puts the bot token in every URL ("/bot<token>/sendMessage"), and httpx logs
each request URL at INFO. python-telegram-bot logs, at DEBUG, the parameters and
results of every Bot API call, which hold message texts and chat ids. Filters are
attached to those exact loggers (a logger's filters do not apply to its children),
whatever logging configuration the application chooses.
"""

from __future__ import annotations

import logging
import re

BOT_TOKEN_IN_URL = re.compile(r"/bot\d+:[A-Za-z0-9_-]+")
REDACTED_BOT_PATH = "/bot[token]"
# Loggers whose records can carry a Telegram URL with the token.
URL_LOGGERS = ("httpx",)
# python-telegram-bot's Bot logger: API parameters and results (message texts).
CONTENT_LOGGERS = ("telegram.Bot",)


class RedactBotTokens(logging.Filter):
    """Rewrite a record whose message holds a bot token in a URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = BOT_TOKEN_IN_URL.sub(REDACTED_BOT_PATH, message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class DropRecords(logging.Filter):
    """Drop every record of a logger that only ever logs contents."""

    def filter(self, record: logging.LogRecord) -> bool:
        return False


def install_log_redaction() -> None:
    """Attach the filters once (calling again changes nothing)."""
    for name, filter_class in [(n, RedactBotTokens) for n in URL_LOGGERS] + [
        (n, DropRecords) for n in CONTENT_LOGGERS
    ]:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, filter_class) for existing in logger.filters):
            logger.addFilter(filter_class())
