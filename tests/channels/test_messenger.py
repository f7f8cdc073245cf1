"""Messenger: X-Hub-Signature-256 checks, the GET handshake, fixture parsing, and
Graph API calls over httpx against the fake provider."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import httpx
import pytest

from channels.base import WebhookRequest
from channels.errors import MalformedPayload, ProviderError, SignatureError
from channels.events import (
    Ignored,
    InboundMessage,
    MediaRef,
    MessageEdited,
    OutboundMessage,
    Watermark,
)
from channels.fake import FakeProvider
from channels.messenger import MessengerAdapter, verify_subscription
from tests.channels.constants import APP_SECRET, PAGE_ID, PAGE_TOKEN, PLACEHOLDERS, VERIFY_TOKEN
from tests.signing import body, load, messenger_signature

URL = "https://inbox.example.test/webhooks/messenger/9"
USER = "24683579135792468"
DELIVERED_MID = (
    "m_9iQHqdEACfbw2kBJQyrwBi84kWgEX3O97BW5fUfOKU2_qHG7tw5opnwCe0Ocfnv_bBoFO_D_ob3tFgGa6GILcw"
)


def make_request(payload: object, *, secret: str = APP_SECRET, signature: str | None = None):
    raw = payload if isinstance(payload, bytes) else body(payload)
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": signature or messenger_signature(secret, raw),
    }
    return WebhookRequest(url=URL, body=raw, headers=headers)


def load_payload(name: str) -> dict:
    return load(f"messenger/{name}", **PLACEHOLDERS)


def parse_fixture(adapter: MessengerAdapter, name: str) -> list:
    return adapter.verify_and_parse(make_request(load_payload(name)))


def build_message_payload(message: dict) -> dict:
    """message-text.json with its message replaced."""
    payload = load_payload("message-text.json")
    payload["entry"][0]["messaging"][0]["message"] = message
    return payload


# ------------------------------------------------------------------------- verify
def test_verify_accepts_the_app_signature(messenger_adapter: MessengerAdapter) -> None:
    messenger_adapter.verify(make_request(load_payload("batched.json")))


def test_verify_refuses_missing_signature_with_401(messenger_adapter: MessengerAdapter) -> None:
    request = WebhookRequest(url=URL, body=body(load_payload("message-text.json")))
    with pytest.raises(SignatureError) as caught:
        messenger_adapter.verify(request)
    assert caught.value.status == 401


@pytest.mark.parametrize(
    "signature",
    [
        None,  # signed with another secret
        "sha1=0123456789abcdef0123456789abcdef01234567",
        "sha256=",
        "garbage",
    ],
)
def test_verify_refuses_wrong_signature_with_403(
    messenger_adapter: MessengerAdapter, signature: str | None
) -> None:
    payload = load_payload("message-text.json")
    request = make_request(payload, secret="another-secret", signature=signature)
    with pytest.raises(SignatureError) as caught:
        messenger_adapter.verify(request)
    assert caught.value.status == 403


def test_verify_is_over_the_raw_bytes(messenger_adapter: MessengerAdapter) -> None:
    raw = body(load_payload("message-text.json"))
    signature = messenger_signature(APP_SECRET, raw)
    reformatted = raw.replace(b'"object":"page"', b'"object": "page"')
    with pytest.raises(SignatureError):
        messenger_adapter.verify(make_request(reformatted, signature=signature))


def test_subscription_handshake() -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    assert verify_subscription(query, VERIFY_TOKEN) == "1158201444"
    for bad in (
        dict(query, **{"hub.verify_token": "wrong"}),
        dict(query, **{"hub.mode": "unsubscribe"}),
        {k: v for k, v in query.items() if k != "hub.challenge"},
        {k: v for k, v in query.items() if k != "hub.verify_token"},
    ):
        with pytest.raises(SignatureError) as caught:
            verify_subscription(bad, VERIFY_TOKEN)
        assert caught.value.status == 403


def test_adapter_handshake_uses_the_channel_verify_token(
    messenger_adapter: MessengerAdapter,
) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "7"}
    assert messenger_adapter.verify_subscription(query) == "7"


# -------------------------------------------------------------------------- parse
def test_parse_text(messenger_adapter: MessengerAdapter) -> None:
    (event,) = parse_fixture(messenger_adapter, "message-text.json")
    assert isinstance(event, InboundMessage)
    assert event.provider_message_id.startswith("m__sK5zpRyLCg_")
    assert event.provider_user_id == USER
    assert event.account_id == PAGE_ID
    assert event.kind == "text"
    assert event.text == "Hello! Do you ship to Canada?"
    assert event.sent_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert event.direction == "inbound"


def test_parse_image_attachment(messenger_adapter: MessengerAdapter) -> None:
    (event,) = parse_fixture(messenger_adapter, "message-attachment-image.json")
    assert isinstance(event, InboundMessage)
    assert event.kind == "image"
    assert event.text == ""
    (image,) = event.attachments
    assert image.kind == "image"
    assert image.url is not None
    assert image.url.startswith("https://scontent.xx.fbcdn.net/v/t1.15752-9/")


def test_parse_echo_is_outbound_in_the_users_conversation(
    messenger_adapter: MessengerAdapter,
) -> None:
    (event,) = parse_fixture(messenger_adapter, "message-echo.json")
    assert isinstance(event, InboundMessage)
    assert event.direction == "outbound"
    assert event.provider_user_id == USER  # the recipient, not the Page
    assert event.account_id == PAGE_ID
    assert event.text == "Yes, we ship to Canada. Delivery takes 5-7 business days."
    assert event.metadata["app_id"] == "1517776481860111"


def test_parse_delivery_watermark(messenger_adapter: MessengerAdapter) -> None:
    (event,) = parse_fixture(messenger_adapter, "delivery.json")
    assert event == Watermark(
        account_id=PAGE_ID,
        provider_user_id=USER,
        status="delivered",
        watermark=datetime.fromtimestamp(1795169039, UTC),
        provider_message_ids=(DELIVERED_MID,),
    )


def test_parse_read_watermark(messenger_adapter: MessengerAdapter) -> None:
    (event,) = parse_fixture(messenger_adapter, "read.json")
    assert event == Watermark(
        account_id=PAGE_ID,
        provider_user_id=USER,
        status="read",
        watermark=datetime.fromtimestamp(1795169039, UTC),
        provider_message_ids=(),
    )


def test_parse_postback(messenger_adapter: MessengerAdapter) -> None:
    (event,) = parse_fixture(messenger_adapter, "postback.json")
    assert isinstance(event, InboundMessage)
    assert event.kind == "text"
    assert event.text == "Talk to an agent"
    assert event.metadata == {"postback_payload": "TALK_TO_AGENT"}
    assert event.provider_message_id.startswith("m_bau2_")
    assert event.provider_user_id == USER


def test_parse_batched_entries_in_order(messenger_adapter: MessengerAdapter) -> None:
    events = parse_fixture(messenger_adapter, "batched.json")
    assert [(e.provider_user_id, e.text) for e in events] == [
        ("31415926535897932", "Hi, I have a question about my order"),
        ("31415926535897932", "It's order #2210"),
        ("27182818284590452", "Are you open on Sunday?"),
    ]
    assert {e.account_id for e in events} == {PAGE_ID}


def test_parse_routes_each_entry_to_its_page(messenger_adapter: MessengerAdapter) -> None:
    payload = load("messenger/batched.json", PAGE_ID="111")
    payload["entry"][2]["id"] = "222"
    events = messenger_adapter.parse(make_request(payload))
    assert [e.account_id for e in events] == ["111", "111", "222"]


def test_parse_several_events_in_one_entry(messenger_adapter: MessengerAdapter) -> None:
    payload = load_payload("batched.json")
    first = payload["entry"][0]
    first["messaging"] += payload["entry"][1]["messaging"]
    payload["entry"] = [first]
    assert len(messenger_adapter.parse(make_request(payload))) == 2


@pytest.mark.parametrize(
    "attachment",
    [
        {"type": "sticker", "payload": {"url": "https://cdn/s.png", "sticker_id": 369239263222822}},
        {"type": "image", "payload": {"url": "https://cdn/s.png", "sticker_id": 369239263222822}},
    ],
)
def test_parse_stickers_both_shapes(messenger_adapter: MessengerAdapter, attachment: dict) -> None:
    payload = build_message_payload({"mid": "m_1", "attachments": [attachment]})
    (event,) = messenger_adapter.parse(make_request(payload))
    assert (event.kind, event.text, event.attachments) == ("unsupported", "[sticker]", ())
    assert event.metadata["sticker_id"] == "369239263222822"


def test_parse_location_media_order_reply_and_quick_reply(
    messenger_adapter: MessengerAdapter,
) -> None:
    located = build_message_payload(
        {
            "mid": "m_2",
            "attachments": [
                {"type": "location", "payload": {"coordinates": {"lat": 45.5, "long": -73.56}}}
            ],
        }
    )
    (event,) = messenger_adapter.parse(make_request(located))
    assert (event.kind, event.location) == ("location", (45.5, -73.56))

    several = build_message_payload(
        {
            "mid": "m_3",
            "text": "see these",
            "reply_to": {"mid": "m_0"},
            "quick_reply": {"payload": "SIZE_M"},
            "attachments": [
                {"type": "video", "payload": {"url": "https://cdn/v.mp4"}},
                {"type": "file", "payload": {"url": "https://cdn/f.pdf"}},
                {"type": "audio", "payload": {"url": "https://cdn/a.mp4"}},
            ],
        }
    )
    (event,) = messenger_adapter.parse(make_request(several))
    assert event.kind == "video"
    assert [a.kind for a in event.attachments] == ["video", "file", "audio"]
    assert event.text == "see these"
    assert event.reply_to_provider_id == "m_0"
    assert event.metadata["quick_reply_payload"] == "SIZE_M"


def test_parse_message_edit(messenger_adapter: MessengerAdapter) -> None:
    payload = load_payload("message-text.json")
    event = payload["entry"][0]["messaging"][0]
    del event["message"]
    event["message_edit"] = {"mid": "m_5", "text": "Do you ship to Mexico?", "num_edit": 1}
    (edited,) = messenger_adapter.parse(make_request(payload))
    assert edited == MessageEdited("m_5", USER, "Do you ship to Mexico?", edited.edited_at)


def test_parse_ignores_other_events_and_entries(messenger_adapter: MessengerAdapter) -> None:
    payload = load_payload("message-text.json")
    event = payload["entry"][0]["messaging"][0]
    del event["message"]
    event["reaction"] = {"reaction": "love", "emoji": "❤", "action": "react", "mid": "m_1"}
    payload["entry"].append({"id": PAGE_ID, "time": 1, "standby": [{"sender": {"id": USER}}]})
    events = messenger_adapter.parse(make_request(payload))
    assert [type(e) for e in events] == [Ignored, Ignored]
    assert "reaction" in events[0].reason
    assert "love" not in events[0].reason


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.update(object="user"),
        lambda p: p.update(entry={"id": "1"}),
        lambda p: p["entry"].append("x"),
        lambda p: p["entry"][0].update(messaging={}),
        lambda p: p["entry"][0]["messaging"][0]["message"].pop("mid"),
        lambda p: p["entry"][0]["messaging"][0].pop("sender"),
        lambda p: p["entry"][0]["messaging"][0].pop("timestamp"),
        lambda p: p["entry"][0]["messaging"][0]["message"].update(attachments="x"),
    ],
)
def test_parse_refuses_malformed_payloads(messenger_adapter: MessengerAdapter, mutate) -> None:
    payload = copy.deepcopy(load_payload("message-text.json"))
    mutate(payload)
    with pytest.raises(MalformedPayload):
        messenger_adapter.parse(make_request(payload))


def test_parse_refuses_non_json(messenger_adapter: MessengerAdapter) -> None:
    with pytest.raises(MalformedPayload):
        messenger_adapter.parse(make_request(b"\xff not json"))


# --------------------------------------------------------------------------- send
async def test_send_keeps_the_token_out_of_urls(
    fake: FakeProvider, messenger_credentials: dict[str, str]
) -> None:
    seen_urls: list[str] = []

    async def record(request: httpx.Request) -> None:
        seen_urls.append(str(request.url))

    async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
        adapter = MessengerAdapter(messenger_credentials, fake.endpoints, http=http)
        result = await adapter.send(OutboundMessage(to=USER, text="We do, 5-7 business days."))
        await adapter.aclose()
        assert not http.is_closed  # a client handed in belongs to the caller
    (sent,) = fake.state.list_sent_messages("messenger")
    assert (sent.to, sent.text, sent.account) == (USER, "We do, 5-7 business days.", PAGE_ID)
    assert sent.fields["messaging_type"] == "RESPONSE"
    assert sent.fields["recipient"] == {"id": USER}
    assert result.provider_message_id == sent.provider_message_id
    assert result.status == "sent"
    assert seen_urls == [f"{fake.base_url}/v21.0/me/messages"]
    assert all(PAGE_TOKEN not in url for url in seen_urls)


async def test_send_429_is_retryable(
    fake: FakeProvider, messenger_on_fake: MessengerAdapter
) -> None:
    fake.fail_next("messenger", 429, retry_after=30)
    with pytest.raises(ProviderError) as caught:
        await messenger_on_fake.send(OutboundMessage(to=USER, text="hi"))
    error = caught.value
    assert (error.status, error.code, error.retryable, error.retry_after) == (429, "4", True, 30.0)


async def test_send_500_is_retryable(
    fake: FakeProvider, messenger_on_fake: MessengerAdapter
) -> None:
    fake.fail_next("messenger", 500)
    with pytest.raises(ProviderError) as caught:
        await messenger_on_fake.send(OutboundMessage(to=USER, text="hi"))
    assert (caught.value.status, caught.value.retryable) == (500, True)


async def test_send_throttling_under_400_is_retryable(
    fake: FakeProvider, messenger_on_fake: MessengerAdapter
) -> None:
    fake.fail_next(
        "messenger",
        400,
        {
            "error": {
                "message": "(#613) Calls to this api have exceeded the rate limit.",
                "code": 613,
            }
        },
    )
    with pytest.raises(ProviderError) as caught:
        await messenger_on_fake.send(OutboundMessage(to=USER, text="hi"))
    assert (caught.value.code, caught.value.retryable) == ("613", True)


async def test_send_400_is_permanent_with_graph_code(
    fake: FakeProvider, messenger_on_fake: MessengerAdapter
) -> None:
    with pytest.raises(ProviderError) as caught:
        await messenger_on_fake.send(OutboundMessage(to="not-a-psid", text="hi"))
    error = caught.value
    assert (error.status, error.code, error.retryable) == (400, "100", False)
    assert error.message == "(#100) No matching user found"


async def test_send_with_invalid_token_is_permanent(
    fake: FakeProvider, messenger_credentials: dict[str, str]
) -> None:
    credentials = dict(messenger_credentials, page_access_token="EAAGrevoked")
    async with MessengerAdapter(credentials, fake.endpoints) as adapter:
        with pytest.raises(ProviderError) as caught:
            await adapter.send(OutboundMessage(to=USER, text="hi"))
    assert (caught.value.code, caught.value.retryable) == ("190", False)
    assert "EAAGrevoked" not in str(caught.value)


# ------------------------------------------------------------------ profile, media
async def test_fetch_profile_and_avatar(
    fake: FakeProvider, messenger_on_fake: MessengerAdapter
) -> None:
    fake.state.add_messenger_profile(USER, "Jane", last_name="Doe", picture=b"\xff\xd8jane")
    profile = await messenger_on_fake.fetch_profile(USER)
    assert profile.display_name == "Jane Doe"
    assert profile.source == "messenger.user_profile"
    assert profile.fields["first_name"] == "Jane"
    assert profile.avatar_url is not None
    assert profile.avatar == MediaRef(kind="image", url=profile.avatar_url)
    data, media_type, filename = await messenger_on_fake.download_media(profile.avatar, 1000)
    assert (data, media_type, filename) == (b"\xff\xd8jane", "image/jpeg", None)


async def test_fetch_profile_of_unknown_user_is_permanent(
    messenger_on_fake: MessengerAdapter,
) -> None:
    with pytest.raises(ProviderError) as caught:
        await messenger_on_fake.fetch_profile("99999999999")
    assert (caught.value.code, caught.value.retryable) == ("100", False)
    assert "99999999999" not in caught.value.message


async def test_download_attachment_of_a_parsed_message(
    fake: FakeProvider, messenger_on_fake: MessengerAdapter
) -> None:
    url = fake.state.add_graph_media(b"PNGDATA" * 10, "image/png")
    payload = load_payload("message-attachment-image.json")
    payload["entry"][0]["messaging"][0]["message"]["attachments"][0]["payload"]["url"] = url
    (event,) = messenger_on_fake.verify_and_parse(make_request(payload))
    data, media_type, _ = await messenger_on_fake.download_media(event.attachments[0], 70)
    assert (data, media_type) == (b"PNGDATA" * 10, "image/png")
    with pytest.raises(ProviderError) as caught:
        await messenger_on_fake.download_media(event.attachments[0], 69)
    assert (caught.value.code, caught.value.retryable) == ("too_large", False)


async def test_download_missing_attachment_is_permanent(
    fake: FakeProvider, messenger_on_fake: MessengerAdapter
) -> None:
    ref = MediaRef(kind="image", url=f"{fake.base_url}/cdn/expired/x.jpg")
    with pytest.raises(ProviderError) as caught:
        await messenger_on_fake.download_media(ref, 100)
    assert (caught.value.status, caught.value.retryable) == (404, False)
