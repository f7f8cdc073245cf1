"""Channel credentials are encrypted at rest; tokens are stored as hashes."""

from __future__ import annotations

import pytest

from inbox.crypto import DecryptionError, decrypt_json, encrypt_json, hash_token
from inbox.models import Channel
from inbox.settings import Settings
from inbox.tenancy import scoped
from inbox.workspaces.channels import channel_credentials, create_channel
from inbox.workspaces.service import create_workspace

CREDENTIALS = {
    "account_sid": "AC9af211329b2fc82e5efe906062c73008",
    "auth_token": "0123456789abcdef0123456789abcdef",
    "from_number": "whatsapp:+15550100000",
}


async def test_credentials_are_encrypted_in_the_database(settings: Settings, db: None) -> None:
    workspace = (await create_workspace("Shop", "a@shop.test", "password-1")).workspace
    setup = await create_channel(settings, workspace, "whatsapp", "Support", CREDENTIALS)
    stored = await scoped(Channel, workspace).get(id=setup.channel.id)
    assert CREDENTIALS["auth_token"] not in stored.credentials_encrypted
    assert CREDENTIALS["account_sid"] not in stored.credentials_encrypted
    assert channel_credentials(settings, stored) == CREDENTIALS
    assert stored.external_id == "whatsapp:+15550100000"


def test_another_master_key_cannot_decrypt() -> None:
    token = encrypt_json("key-one", {"secret": "value"})
    assert decrypt_json("key-one", token) == {"secret": "value"}
    with pytest.raises(DecryptionError) as caught:
        decrypt_json("key-two", token)
    assert "value" not in str(caught.value)


def test_token_hashes_are_stable_and_one_way() -> None:
    assert hash_token("abc") == hash_token("abc")
    assert hash_token("abc") != hash_token("abd")
    assert "abc" not in hash_token("abc")
