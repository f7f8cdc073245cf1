"""WhatsApp through Twilio: signature checks, fixture parsing, and REST calls
through twilio's own Client against the fake provider."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from channels.base import ProviderEndpoints, WebhookRequest
from channels.errors import MalformedPayload, ProviderError, SignatureError
from channels.events import (
    Ignored,
    InboundMessage,
    MediaRef,
    OutboundMessage,
    StatusUpdate,
)
from channels.fake import FakeProvider
from channels.twilio import TwilioAdapter
from tests.channels.constants import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CHANNEL_NUMBER,
    MESSAGING_SERVICE_SID,
    PLACEHOLDERS,
)
from tests.signing import load, twilio_form_body, twilio_signature

INBOUND_URL = "https://inbox.example.test/webhooks/twilio/42"
STATUS_URL = INBOUND_URL + "/status"
TWILIO_FIXTURES = [
    "whatsapp-inbound-image.json",
    "whatsapp-inbound-location.json",
    "whatsapp-inbound-reply.json",
    "whatsapp-inbound-text.json",
    "whatsapp-status-delivered.json",
    "whatsapp-status-failed.json",
    "whatsapp-status-read.json",
    "whatsapp-status-sent.json",
]
CONTACT = "whatsapp:+15555550123"
OUTBOUND_SID = "SMe2caa8aceff37ee8555ee797657f79f8"


def load_params(name: str) -> dict[str, str]:
    return load(f"twilio/{name}", **PLACEHOLDERS)


def make_request(
    params: dict[str, str],
    url: str = INBOUND_URL,
    *,
    token: str = AUTH_TOKEN,
    signature: str | None = None,
    headers: dict[str, str] | None = None,
) -> WebhookRequest:
    all_headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature or twilio_signature(token, url, params),
    }
    all_headers.update(headers or {})
    return WebhookRequest(url=url, body=twilio_form_body(params), headers=all_headers)


def parse_one(adapter: TwilioAdapter, name: str, url: str = INBOUND_URL):
    events = adapter.verify_and_parse(make_request(load_params(name), url))
    assert len(events) == 1
    return events[0]


# ------------------------------------------------------------------------- verify
@pytest.mark.parametrize("name", TWILIO_FIXTURES)
def test_verify_accepts_twilio_signature(twilio_adapter: TwilioAdapter, name: str) -> None:
    url = STATUS_URL if "status" in name else INBOUND_URL
    twilio_adapter.verify(make_request(load_params(name), url))


def test_verify_refuses_missing_signature_with_401(twilio_adapter: TwilioAdapter) -> None:
    params = load_params("whatsapp-inbound-text.json")
    request = WebhookRequest(url=INBOUND_URL, body=twilio_form_body(params), headers={})
    with pytest.raises(SignatureError) as caught:
        twilio_adapter.verify(request)
    assert caught.value.status == 401


@pytest.mark.parametrize(
    "tamper",
    ["other token", "other url", "changed body", "garbage"],
)
def test_verify_refuses_wrong_signature_with_403(twilio_adapter: TwilioAdapter, tamper) -> None:
    params = load_params("whatsapp-inbound-text.json")
    if tamper == "other token":
        request = make_request(params, token="not-the-token")
    elif tamper == "other url":
        request = make_request(
            params, signature=twilio_signature(AUTH_TOKEN, INBOUND_URL + "x", params)
        )
    elif tamper == "changed body":
        signature = twilio_signature(AUTH_TOKEN, INBOUND_URL, params)
        request = make_request(dict(params, Body="Send it elsewhere"), signature=signature)
    else:
        request = make_request(params, signature="bm90IGEgc2lnbmF0dXJl")
    with pytest.raises(SignatureError) as caught:
        twilio_adapter.verify(request)
    assert caught.value.status == 403


def test_verify_accepts_url_with_or_without_default_port(twilio_adapter: TwilioAdapter) -> None:
    params = load_params("whatsapp-inbound-text.json")
    signature = twilio_signature(AUTH_TOKEN, INBOUND_URL, params)
    with_port = INBOUND_URL.replace("inbox.example.test", "inbox.example.test:443")
    twilio_adapter.verify(make_request(params, with_port, signature=signature))


def test_verify_honours_shared_key_sha256_signatures(twilio_adapter: TwilioAdapter) -> None:
    params = load_params("whatsapp-inbound-text.json")
    settings = {"X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sk_1,algorithm=HMAC_SHA256"}
    sha256 = RequestValidator(AUTH_TOKEN).compute_signature(INBOUND_URL, params, "HMAC_SHA256")
    twilio_adapter.verify(make_request(params, signature=sha256, headers=settings))
    sha1 = twilio_signature(AUTH_TOKEN, INBOUND_URL, params)
    with pytest.raises(SignatureError) as caught:
        twilio_adapter.verify(make_request(params, signature=sha1, headers=settings))
    assert caught.value.status == 403


def test_verify_keeps_unknown_and_repeated_fields_in_the_check(
    twilio_adapter: TwilioAdapter,
) -> None:
    # Twilio adds parameters without notice; they are part of what it signs.
    params = dict(load_params("whatsapp-inbound-text.json"), NewField="x")
    twilio_adapter.verify(make_request(params))
    repeated = {"MessageSid": "SM1", "From": CONTACT, "Tag": ["b", "a"]}
    body = urlencode(repeated, doseq=True).encode()
    signature = twilio_signature(AUTH_TOKEN, INBOUND_URL, repeated)
    twilio_adapter.verify(
        WebhookRequest(url=INBOUND_URL, body=body, headers={"x-twilio-signature": signature})
    )


def test_verify_refuses_non_utf8_body(twilio_adapter: TwilioAdapter) -> None:
    request = WebhookRequest(
        url=INBOUND_URL, body=b"Body=%FF\xff", headers={"X-Twilio-Signature": "abc="}
    )
    with pytest.raises(SignatureError) as caught:
        twilio_adapter.verify(request)
    assert caught.value.status == 403


# -------------------------------------------------------------------------- parse
def test_parse_inbound_text(twilio_adapter: TwilioAdapter) -> None:
    before = datetime.now(UTC)
    event = parse_one(twilio_adapter, "whatsapp-inbound-text.json")
    assert isinstance(event, InboundMessage)
    assert event.provider_message_id == "SM342ec3d12900c089b9522607fffe816c"
    assert event.provider_user_id == CONTACT
    assert event.account_id == f"whatsapp:{CHANNEL_NUMBER}"
    assert event.kind == "text"
    assert event.text == "Hi! Has my order #1042 shipped yet?"
    assert event.profile.display_name == "Maria Lopez"
    assert event.profile.phone == "+15555550123"
    assert event.direction == "inbound"
    assert event.attachments == ()
    assert event.location is None
    assert event.reply_to_provider_id is None
    assert event.sent_at.tzinfo is not None
    assert before - timedelta(seconds=1) <= event.sent_at <= datetime.now(UTC)


def test_parse_inbound_image_keeps_media_and_caption(twilio_adapter: TwilioAdapter) -> None:
    event = parse_one(twilio_adapter, "whatsapp-inbound-image.json")
    assert isinstance(event, InboundMessage)
    assert event.provider_message_id == "MMec7dccf823af7d603f3532df83cee121"
    assert event.kind == "image"
    assert event.text == "The box arrived damaged"
    assert event.attachments == (
        MediaRef(
            kind="image",
            media_type="image/jpeg",
            url=(
                "https://api.twilio.com/2010-04-01/Accounts/AC9af211329b2fc82e5efe906062c73008"
                "/Messages/MMec7dccf823af7d603f3532df83cee121"
                "/Media/ME0ae9e334a89305f086643275da96e1e9"
            ),
        ),
    )


def test_parse_inbound_location(twilio_adapter: TwilioAdapter) -> None:
    event = parse_one(twilio_adapter, "whatsapp-inbound-location.json")
    assert isinstance(event, InboundMessage)
    assert event.kind == "location"
    assert event.location == (40.748440, -73.985664)
    assert event.text == ""


def test_parse_inbound_reply_links_the_quoted_message(twilio_adapter: TwilioAdapter) -> None:
    event = parse_one(twilio_adapter, "whatsapp-inbound-reply.json")
    assert isinstance(event, InboundMessage)
    assert event.kind == "text"
    assert event.text == "Yes please, send it to the new address."
    assert event.reply_to_provider_id == OUTBOUND_SID


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("whatsapp-status-sent.json", "sent"),
        ("whatsapp-status-delivered.json", "delivered"),
        ("whatsapp-status-read.json", "read"),
    ],
)
def test_parse_status_callbacks(twilio_adapter: TwilioAdapter, name: str, status: str) -> None:
    event = parse_one(twilio_adapter, name, STATUS_URL)
    assert isinstance(event, StatusUpdate)
    assert event.provider_message_id == OUTBOUND_SID
    assert event.status == status
    assert event.error_code is None
    assert event.at.tzinfo is not None


def test_parse_failed_status_explains_the_24_hour_window(twilio_adapter: TwilioAdapter) -> None:
    event = parse_one(twilio_adapter, "whatsapp-status-failed.json", STATUS_URL)
    assert isinstance(event, StatusUpdate)
    assert event.provider_message_id == "SMd55e68f10ff9e0ccedd8ebed4568ef3a"
    assert event.status == "failed"
    assert event.error_code == "63016"
    assert "24-hour" in (event.error_message or "")
    assert "template" in (event.error_message or "")


def test_status_callback_on_the_inbound_url_is_still_a_status(
    twilio_adapter: TwilioAdapter,
) -> None:
    event = parse_one(twilio_adapter, "whatsapp-status-delivered.json", INBOUND_URL)
    assert isinstance(event, StatusUpdate)
    assert event.status == "delivered"


def test_parse_unknown_status_is_ignored(twilio_adapter: TwilioAdapter) -> None:
    params = dict(load_params("whatsapp-status-sent.json"), MessageStatus="receiving")
    (event,) = twilio_adapter.parse(make_request(params))
    assert isinstance(event, Ignored)


def test_parse_sticker_is_unsupported_and_not_downloaded(twilio_adapter: TwilioAdapter) -> None:
    params = dict(
        load_params("whatsapp-inbound-image.json"),
        MessageType="sticker",
        Body="",
        MediaContentType0="image/webp",
    )
    (event,) = twilio_adapter.parse(make_request(params))
    assert isinstance(event, InboundMessage)
    assert (event.kind, event.text, event.attachments) == ("unsupported", "[sticker]", ())


def test_parse_media_of_several_kinds_in_provider_order(twilio_adapter: TwilioAdapter) -> None:
    params = dict(
        load_params("whatsapp-inbound-image.json"),
        NumMedia="3",
        MediaUrl1="https://api.twilio.com/m/1",
        MediaContentType1="audio/ogg",
        MediaUrl2="https://api.twilio.com/m/2",
        MediaContentType2="application/pdf",
    )
    (event,) = twilio_adapter.parse(make_request(params))
    assert [ref.kind for ref in event.attachments] == ["image", "audio", "file"]


@pytest.mark.parametrize(
    "change",
    [
        {"MessageSid": "", "SmsMessageSid": ""},
        {"From": ""},
        {"NumMedia": "two"},
        {"NumMedia": "2"},
        {"Latitude": "north", "Longitude": "-73.9"},
    ],
)
def test_parse_refuses_malformed_inbound(twilio_adapter: TwilioAdapter, change) -> None:
    params = dict(load_params("whatsapp-inbound-image.json"), **change)
    with pytest.raises(MalformedPayload):
        twilio_adapter.parse(make_request(params))


def test_parse_refuses_non_utf8_body(twilio_adapter: TwilioAdapter) -> None:
    with pytest.raises(MalformedPayload):
        twilio_adapter.parse(WebhookRequest(url=INBOUND_URL, body=b"Body=\xff"))


def test_parse_refuses_status_without_sid(twilio_adapter: TwilioAdapter) -> None:
    params = dict(load_params("whatsapp-status-sent.json"), MessageSid="", SmsSid="")
    with pytest.raises(MalformedPayload):
        twilio_adapter.parse(make_request(params))


# --------------------------------------------------------------------------- send
async def test_send_text_through_twilio_client(
    fake: FakeProvider, twilio_on_fake: TwilioAdapter
) -> None:
    result = await twilio_on_fake.send(
        OutboundMessage(
            to=CONTACT, text="Your order shipped today.", status_callback_url=STATUS_URL
        )
    )
    assert result.provider_message_id.startswith("SM")
    assert len(result.provider_message_id) == 34
    assert result.status == "queued"
    (sent,) = fake.state.list_sent_messages("twilio")
    assert sent.provider_message_id == result.provider_message_id
    assert sent.account == ACCOUNT_SID
    assert sent.fields["To"] == CONTACT
    assert sent.fields["From"] == f"whatsapp:{CHANNEL_NUMBER}"
    assert sent.fields["Body"] == "Your order shipped today."
    assert sent.fields["StatusCallback"] == STATUS_URL
    assert "MessagingServiceSid" not in sent.fields


async def test_send_normalizes_the_recipient_address(
    fake: FakeProvider, twilio_on_fake: TwilioAdapter
) -> None:
    await twilio_on_fake.send(OutboundMessage(to="+15555550123", text="a"))
    await twilio_on_fake.send(OutboundMessage(to="15555550123", text="b"))
    assert [m.to for m in fake.state.list_sent_messages("twilio")] == [CONTACT, CONTACT]
    with pytest.raises(ProviderError) as caught:
        await twilio_on_fake.send(OutboundMessage(to="whatsapp:+0123", text="c"))
    assert caught.value.code == "invalid_recipient"
    assert not caught.value.retryable


async def test_send_template_with_messaging_service(
    fake: FakeProvider, twilio_credentials: dict[str, str]
) -> None:
    credentials = dict(twilio_credentials, messaging_service_sid=MESSAGING_SERVICE_SID)
    async with TwilioAdapter(credentials, fake.endpoints) as adapter:
        await adapter.send(
            OutboundMessage(
                to=CONTACT,
                template_id="HXb5b62575e6e4ff6129ad7c8efe1f983e",
                template_variables={"1": "Maria", "2": "#1042"},
            )
        )
    (sent,) = fake.state.list_sent_messages("twilio")
    assert sent.fields["ContentSid"] == "HXb5b62575e6e4ff6129ad7c8efe1f983e"
    assert json.loads(sent.fields["ContentVariables"]) == {"1": "Maria", "2": "#1042"}
    assert sent.fields["MessagingServiceSid"] == MESSAGING_SERVICE_SID
    assert "Body" not in sent.fields


async def test_send_429_is_retryable_with_retry_after(
    fake: FakeProvider, twilio_on_fake: TwilioAdapter
) -> None:
    fake.fail_next("twilio", 429, retry_after=7)
    with pytest.raises(ProviderError) as caught:
        await twilio_on_fake.send(OutboundMessage(to=CONTACT, text="hello"))
    error = caught.value
    assert (error.status, error.code, error.retryable, error.retry_after) == (
        429,
        "20429",
        True,
        7.0,
    )
    assert fake.state.list_sent_messages() == []


async def test_send_500_is_retryable(fake: FakeProvider, twilio_on_fake: TwilioAdapter) -> None:
    fake.fail_next("twilio", 500)
    with pytest.raises(ProviderError) as caught:
        await twilio_on_fake.send(OutboundMessage(to=CONTACT, text="hello"))
    assert caught.value.retryable
    assert caught.value.status == 500
    assert caught.value.retry_after is None


async def test_send_400_is_permanent_with_twilio_code_and_redacted_text(
    fake: FakeProvider, twilio_on_fake: TwilioAdapter
) -> None:
    fake.fail_next(
        "twilio",
        400,
        {
            "code": 21211,
            "message": "Invalid 'To' Phone Number: whatsapp:+15555550123",
            "status": 400,
        },
    )
    with pytest.raises(ProviderError) as caught:
        await twilio_on_fake.send(OutboundMessage(to=CONTACT, text="hello"))
    error = caught.value
    assert (error.status, error.code, error.retryable) == (400, "21211", False)
    assert "Invalid 'To' Phone Number" in error.message
    assert "5555550123" not in error.message
    assert "5555550123" not in str(error)
    assert error.__cause__ is None


async def test_send_with_wrong_token_is_permanent(
    fake: FakeProvider, twilio_credentials: dict[str, str]
) -> None:
    credentials = dict(twilio_credentials, auth_token="wrong-token")
    async with TwilioAdapter(credentials, fake.endpoints) as adapter:
        with pytest.raises(ProviderError) as caught:
            await adapter.send(OutboundMessage(to=CONTACT, text="hello"))
    assert (caught.value.status, caught.value.code, caught.value.retryable) == (401, "20003", False)
    assert "wrong-token" not in str(caught.value)


def find_closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_send_connection_refused_is_retryable(twilio_credentials: dict[str, str]) -> None:
    endpoints = ProviderEndpoints(twilio_api_base=f"http://127.0.0.1:{find_closed_port()}")
    async with TwilioAdapter(twilio_credentials, endpoints) as adapter:
        with pytest.raises(ProviderError) as caught:
            await adapter.send(OutboundMessage(to=CONTACT, text="hello"))
    assert (caught.value.code, caught.value.retryable) == ("network", True)


# ------------------------------------------------------------------ profile, media
async def test_fetch_profile_gives_the_phone_only(twilio_on_fake: TwilioAdapter) -> None:
    profile = await twilio_on_fake.fetch_profile(CONTACT)
    assert profile.phone == "+15555550123"
    assert profile.display_name is None
    assert profile.source == "twilio.webhook"
    assert profile.fetched_at is not None


async def test_download_media_of_a_parsed_message(
    fake: FakeProvider, twilio_on_fake: TwilioAdapter
) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"photo" * 100
    fake.state.add_twilio_media(
        ACCOUNT_SID,
        "MMec7dccf823af7d603f3532df83cee121",
        jpeg,
        "image/jpeg",
        media_sid="ME0ae9e334a89305f086643275da96e1e9",
    )
    (event,) = twilio_on_fake.parse(make_request(load_params("whatsapp-inbound-image.json")))
    data, media_type, filename = await twilio_on_fake.download_media(
        event.attachments[0], max_bytes=10_000
    )
    assert data == jpeg
    assert media_type == "image/jpeg"
    assert filename is None


async def test_download_media_needs_the_account_credentials(
    fake: FakeProvider, twilio_credentials: dict[str, str]
) -> None:
    url = fake.state.add_twilio_media(ACCOUNT_SID, "MM1", b"data", "image/png")
    credentials = dict(twilio_credentials, auth_token="wrong-token")
    async with TwilioAdapter(credentials, fake.endpoints) as adapter:
        with pytest.raises(ProviderError) as caught:
            await adapter.download_media(MediaRef(kind="image", url=url), max_bytes=100)
    assert (caught.value.status, caught.value.code, caught.value.retryable) == (401, "20003", False)


async def test_download_media_refuses_more_than_max_bytes(
    fake: FakeProvider, twilio_on_fake: TwilioAdapter
) -> None:
    url = fake.state.add_twilio_media(ACCOUNT_SID, "MM1", b"x" * 5000, "video/mp4")
    with pytest.raises(ProviderError) as caught:
        await twilio_on_fake.download_media(MediaRef(kind="video", url=url), max_bytes=4999)
    assert (caught.value.code, caught.value.retryable) == ("too_large", False)
    data, media_type, _ = await twilio_on_fake.download_media(
        MediaRef(kind="video", url=url), max_bytes=5000
    )
    assert (len(data), media_type) == (5000, "video/mp4")


async def test_download_media_refuses_other_hosts(twilio_on_fake: TwilioAdapter) -> None:
    ref = MediaRef(kind="image", url="https://attacker.example/steal")
    with pytest.raises(ProviderError) as caught:
        await twilio_on_fake.download_media(ref, max_bytes=100)
    assert caught.value.code == "invalid_media"


async def test_download_media_5xx_is_retryable(
    fake: FakeProvider, twilio_on_fake: TwilioAdapter
) -> None:
    url = fake.state.add_twilio_media(ACCOUNT_SID, "MM1", b"data", "image/png")
    fake.fail_next("twilio", 503, retry_after=2)
    with pytest.raises(ProviderError) as caught:
        await twilio_on_fake.download_media(MediaRef(kind="image", url=url), max_bytes=100)
    assert (caught.value.status, caught.value.retryable, caught.value.retry_after) == (
        503,
        True,
        2.0,
    )
