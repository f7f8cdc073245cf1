"""tests/signing.py agrees with the providers' schemes: Twilio's own RequestValidator,
hand-computed HMACs, and reference values produced by the fixtures' original
signing script (recorded here, so the check needs nothing outside this repository)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from twilio.request_validator import RequestValidator

from tests.signing import (
    FIXTURES_DIR,
    body,
    list_placeholders,
    load,
    messenger_signature,
    stripe_signature,
    twilio_form_body,
    twilio_signature,
)

VALUES = {
    "CHANNEL_NUMBER": "+15550100000",
    "BOT_ID": 7000000001,
    "PAGE_ID": "101234567890123",
    "WORKSPACE_ID": "ws_test_1",
}
TWILIO_TOKEN = "test_auth_token_0123456789abcdef"
TWILIO_URL = "https://inbox.example.test/webhooks/twilio/42"

# Reference results of the original script with VALUES, TWILIO_TOKEN and TWILIO_URL:
# X-Twilio-Signature, and the first 16 hex digits of sha256(form body).
REFERENCE_TWILIO = {
    "whatsapp-inbound-image.json": ("vXt4mu0P3D5+2SML/hNFoekBq38=", "7fb5d4cfa8cfc8e8"),
    "whatsapp-inbound-location.json": ("BOdAvD0PzxCTEdO0MAuJQr48i/s=", "5e5af05de23c8bbe"),
    "whatsapp-inbound-reply.json": ("KznkhaercXizMEBv/qQ8qe9RXBY=", "be2d715e3eb0609d"),
    "whatsapp-inbound-text.json": ("zy7wg4KT4p4F1/li7vobAYSj0EM=", "22e670c21ecbf716"),
    "whatsapp-status-delivered.json": ("7I8LCoHQnGOhwdh14CPFM+J8IDs=", "10af16ab98361a06"),
    "whatsapp-status-failed.json": ("7A+fhWVIv+bvsLuKlbKfPAMewAE=", "6638adb8fcc1978f"),
    "whatsapp-status-read.json": ("UTJm8/airF3Rr/IBI8tChj4C83U=", "acbeffbf33c0803b"),
    "whatsapp-status-sent.json": ("c/d2PZNAjO/nGXgSLObVTjk6pec=", "e740ab50154816af"),
}
# sha256 of body(load(name, **VALUES)).
REFERENCE_BODY_SHA256 = {
    "telegram/callback-query.json": (
        "45d0194eef28ae8df20502333d770f1c917808da00ee54d6f3996cf099173d99"
    ),
    "telegram/edited-message.json": (
        "8a4ebaa4aa18c6fb736edd455f158b7daeb4b16897f7b3d9c20e33cd7ff00827"
    ),
    "telegram/group-message.json": (
        "697d8addc650a0c3d323de010c2f8abb14514d99e4b5ae1e3f00edc0422a74d3"
    ),
    "telegram/message-document.json": (
        "195736cc94816f24408e59ee04de0455a4b9966d4128708f47b70238ca037ca3"
    ),
    "telegram/message-photo.json": (
        "600111bba942f90efb12607b95d180e3b4be543e5ccdb98d02f2e3bb63f53cd1"
    ),
    "telegram/message-sticker.json": (
        "447eea73c70585d01f58e4f1dc0884b4771ece00e67490058921eeb13c7b580f"
    ),
    "telegram/message-text.json": (
        "d8f961422a44d6dd49d92eeab675834bb1995ee01eb3caa6c78f57ec331a7e2a"
    ),
    "messenger/batched.json": "b1b6665e9060bf385631fb5a36631210b7ba12a1ae5b2ec6283b920b1b3f3662",
    "messenger/delivery.json": "8fcdc0bca46e5d121e8d54609938b5537602fd5742dbac14ec8caba6cb4c1451",
    "messenger/message-attachment-image.json": (
        "823f9397a7dce035255ff8486c19451adb5b9cadc44fc63c9a0fd23699dbe6b3"
    ),
    "messenger/message-echo.json": (
        "12cdffeef4e012fcbd1498797fb343540d4f62244fa06cd59845f0c57ef14b2a"
    ),
    "messenger/message-text.json": (
        "3f2ea6f5761049f4a211cfa1a07a5c2548c02ed01de690b376663ca66366b65c"
    ),
    "messenger/postback.json": "714fa07e31d1d9bd44ae8ed7210442ff16a4f08fb8ff23ee2cd03e4511c80d23",
    "messenger/read.json": "34890b429a51ce91cec0922054fdf9b742ae35b5d8006c844150b2a843bc29bd",
    "stripe/checkout-session-completed.json": (
        "8be7a41198bd1174d90970f2c537d3cca6edb4ea99e39335538a868c1593054f"
    ),
    "stripe/customer-subscription-deleted.json": (
        "feef02d15122e41bb461727bf4c43295b748f101e0c80c657ee35cb78614956d"
    ),
    "stripe/customer-subscription-updated.json": (
        "f0ae0a1ea963df9cef0727b37909324a7747cfb917899a8f0dacaf49b96c876e"
    ),
    "stripe/invoice-paid.json": "aa29ad8d25e8f4d6ef13ffe8d8cae1577f1ce3f22addbd59337417f6783a0d3e",
    "stripe/invoice-payment-failed.json": (
        "5ee1b26b4d01a1c574af1cab6da19b69beb351dfae94b5591822a180b143e3e0"
    ),
}
MESSENGER_SECRET = "app_secret_0123"
REFERENCE_MESSENGER = {
    "messenger/batched.json": "fa017c9731ae90dba83c6aab0e4da70e304a8340eb7b0f87ebc5e9fa77427f6d",
    "messenger/message-text.json": (
        "90e8991f2db6ff1979e0d573bc9ff624cffd3299fd474bdd4e3453dc219cd27f"
    ),
    "messenger/read.json": "873ef1d36775194e04c3e6db4afb691d0976cc5638af031a90b75eec28725d63",
}
STRIPE_SECRET = "whsec_test_0123456789abcdef"
REFERENCE_STRIPE = {
    "stripe/invoice-paid.json": "457434b3a6e624009ffc758107a6c267544d91518d1b9b842257cd516a654a21",
    "stripe/invoice-payment-failed.json": (
        "88abddda13d4e11e587d0fad0586d39b600e57823ee2fec2dde6ae8dd20f8d1b"
    ),
}


def test_twilio_signature_matches_twilios_documented_example() -> None:
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


@pytest.mark.parametrize("name", sorted(REFERENCE_TWILIO))
def test_twilio_helpers_match_reference_and_request_validator(name: str) -> None:
    params = load(f"twilio/{name}", **VALUES)
    signature = twilio_signature(TWILIO_TOKEN, TWILIO_URL, params)
    expected_signature, expected_body_digest = REFERENCE_TWILIO[name]
    assert signature == expected_signature
    assert hashlib.sha256(twilio_form_body(params)).hexdigest()[:16] == expected_body_digest
    validator = RequestValidator(TWILIO_TOKEN)
    assert signature == validator.compute_signature(TWILIO_URL, params)
    assert validator.validate(TWILIO_URL, params, signature)
    assert not validator.validate(TWILIO_URL, dict(params, Body="tampered"), signature)


def test_twilio_signature_of_repeated_fields() -> None:
    params = {"A": ["2", "1"], "B": "x"}
    expected = base64.b64encode(
        hmac.new(b"tok", b"https://u/A1A2Bx", hashlib.sha1).digest()
    ).decode()
    assert twilio_signature("tok", "https://u/", params) == expected


@pytest.mark.parametrize("name", sorted(REFERENCE_BODY_SHA256))
def test_body_matches_reference_bytes(name: str) -> None:
    assert hashlib.sha256(body(load(name, **VALUES))).hexdigest() == REFERENCE_BODY_SHA256[name]


@pytest.mark.parametrize("name", sorted(REFERENCE_MESSENGER))
def test_messenger_signature_matches_reference_and_hand_hmac(name: str) -> None:
    raw = body(load(name, **VALUES))
    signature = messenger_signature(MESSENGER_SECRET, raw)
    assert signature == "sha256=" + REFERENCE_MESSENGER[name]
    by_hand = hmac.new(MESSENGER_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert signature == f"sha256={by_hand}"


@pytest.mark.parametrize("name", sorted(REFERENCE_STRIPE))
def test_stripe_signature_matches_reference_and_hand_hmac(name: str) -> None:
    raw = body(load(name, **VALUES))
    header = stripe_signature(STRIPE_SECRET, raw, t=1700000000)
    assert header == f"t=1700000000,v1={REFERENCE_STRIPE[name]}"
    by_hand = hmac.new(STRIPE_SECRET.encode(), b"1700000000." + raw, hashlib.sha256).hexdigest()
    assert header.endswith(by_hand)


def test_stripe_signature_defaults_to_now() -> None:
    header = stripe_signature("whsec_x", b"{}")
    timestamp = int(header.split(",")[0].removeprefix("t="))
    assert timestamp > 1_700_000_000


def test_every_fixture_loads_with_no_placeholder_left() -> None:
    names = sorted(
        f"{folder.name}/{path.name}"
        for folder in FIXTURES_DIR.iterdir()
        if folder.is_dir()
        for path in folder.glob("*.json")
    )
    assert len(names) == 27
    assert [name for name in names if list_placeholders(load(name, **VALUES))] == []


def test_load_keeps_the_placeholder_type_and_fills_longer_strings_as_text() -> None:
    update = load("telegram/callback-query.json", BOT_ID=7000000001)
    assert update["callback_query"]["message"]["from"]["id"] == 7000000001
    params = load("twilio/whatsapp-inbound-text.json", CHANNEL_NUMBER="+15550100000")
    assert params["To"] == "whatsapp:+15550100000"
    untouched = load("twilio/whatsapp-inbound-text.json")
    assert untouched["To"] == "whatsapp:{{CHANNEL_NUMBER}}"
    assert list_placeholders(untouched) == {"CHANNEL_NUMBER"}
