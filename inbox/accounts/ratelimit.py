"""Fixed-window rate limits in Redis, shared by every web process.

Keys hold a keyed hash of the limited subject (an e-mail address, an IP), never
the subject itself, so Redis holds no personal data in clear.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from inbox.broker import Broker
from inbox.errors import AppError

LOGIN_WINDOW_SECONDS = 15 * 60
LOGIN_ATTEMPTS_PER_ACCOUNT = 10
LOGIN_ATTEMPTS_PER_IP = 50
KEY_PREFIX = "inbox:ratelimit"


class RateLimited(AppError):
    """Too many attempts; ``retry_after`` seconds until the window reopens."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)
        self.headers = {"Retry-After": str(self.retry_after)}


@dataclass(frozen=True)
class Limit:
    name: str
    attempts: int
    window_seconds: int


LOGIN_PER_ACCOUNT = Limit("login-account", LOGIN_ATTEMPTS_PER_ACCOUNT, LOGIN_WINDOW_SECONDS)
LOGIN_PER_IP = Limit("login-ip", LOGIN_ATTEMPTS_PER_IP, LOGIN_WINDOW_SECONDS)


def limit_key(secret: str, limit: Limit, subject: str) -> str:
    digest = hmac.new(secret.encode(), subject.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{KEY_PREFIX}:{limit.name}:{digest}"


async def count_attempt(broker: Broker, secret: str, limit: Limit, subject: str) -> None:
    """Count one attempt; raise :class:`RateLimited` once the window's budget is spent."""
    key = limit_key(secret, limit, subject)
    async with broker.redis.pipeline(transaction=True) as pipe:
        # SET NX EX opens the window (EXPIRE NX needs Redis 7; the embedded one is 6.2).
        pipe.set(key, 0, ex=limit.window_seconds, nx=True)
        pipe.incr(key)
        pipe.ttl(key)
        _, count, ttl = await pipe.execute()
    if int(count) > limit.attempts:
        raise RateLimited(
            "too many attempts; try again later",
            retry_after=int(ttl) if int(ttl) > 0 else limit.window_seconds,
        )


async def reset_attempts(broker: Broker, secret: str, limit: Limit, subject: str) -> None:
    await broker.redis.delete(limit_key(secret, limit, subject))
