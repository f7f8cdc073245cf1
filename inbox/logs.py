"""Structured logging: one JSON object a line, and no personal data in it.

Log calls pass ids and counts only. As a second line of defence, the formatter
drops any ``extra`` field whose name the privacy registry lists as personal.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
# Field names that hold personal data wherever they appear (see the privacy registry).
SCRUBBED_FIELDS = frozenset(
    {"email", "phone", "text", "body", "ip", "user_agent", "password", "token", "display_name"}
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key in RESERVED or key.startswith("_"):
                continue
            entry[key] = "[scrubbed]" if key in SCRUBBED_FIELDS else value
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type and where it came from, not its message, which
            # may quote data (a driver error echoing a value, for instance).
            entry["exception"] = record.exc_info[0].__name__
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log prints client IPs and full URLs: connection data
    # belongs only in the SystemLog table, under its one-year rule.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
