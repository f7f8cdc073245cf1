"""Secrets at rest: channel credentials encrypted with a key derived from MASTER_KEY,
and one-way hashes for the tokens we hand out (sessions, API tokens, invitations)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CREDENTIALS_KEY_INFO = b"inbox/channel-credentials/v1"
TOKEN_BYTES = 32


class DecryptionError(ValueError):
    """Stored credentials could not be decrypted (wrong MASTER_KEY?)."""


def derive_fernet(master_key: str, info: bytes = CREDENTIALS_KEY_INFO) -> Fernet:
    """A Fernet key derived from MASTER_KEY for one purpose, named by ``info``."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        master_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_json(master_key: str, value: dict[str, Any]) -> str:
    return derive_fernet(master_key).encrypt(json.dumps(value).encode()).decode()


def decrypt_json(master_key: str, token: str) -> dict[str, Any]:
    try:
        return json.loads(derive_fernet(master_key).decrypt(token.encode()))
    except InvalidToken as exc:
        raise DecryptionError("credentials cannot be decrypted with this MASTER_KEY") from exc


def generate_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """SHA-256 of a high-entropy token: enough, as tokens are random, not passwords."""
    return hashlib.sha256(token.encode()).hexdigest()
