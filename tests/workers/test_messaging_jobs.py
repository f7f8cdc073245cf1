"""The send_message and download_media jobs against the fake provider on loopback."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from arq import Retry
from arq.worker import Worker

from channels.fake import FakeProvider, run_fake_provider
from inbox.broker import Broker
from inbox.messaging.outbound import queue_reply
from inbox.messaging.sending import MAX_SEND_TRIES, record_sent
from inbox.models import Attachment, Conversation, Message
from inbox.models.base import utcnow
from inbox.settings import Settings
from inbox.tenancy import scoped
from tests.channels.constants import (
    ACCOUNT_SID,
    APP_SECRET,
    AUTH_TOKEN,
    BOT_TOKEN,
    PAGE_ID,
    PAGE_TOKEN,
)
from tests.inbox.messaging.support import (
    ANA,
    MARIA,
    PSID,
    Setup,
    make_setup,
    post_fixture,
    seed_outbound,
    twilio_request,
)
from tests.signing import load
from workers.messaging import download_media, send_message
from workers.settings import worker_options

TEMPLATE = "HX" + "ab" * 16
PDF_FILE_ID = "BQACAgQAAxkBAAIgHr59-GP4So1mbO5s8OhecHO-tEwG6C3_Uos76twQcjDNi-IB7ugh3w"


@pytest.fixture
async def fake() -> AsyncIterator[FakeProvider]:
    async with run_fake_provider() as provider:
        provider.state.add_twilio_account(ACCOUNT_SID, AUTH_TOKEN)
        provider.state.add_telegram_bot(BOT_TOKEN)
        provider.state.add_messenger_page(PAGE_ID, PAGE_TOKEN, app_secret=APP_SECRET)
        yield provider


@pytest.fixture
def on_fake(settings: Settings, fake: FakeProvider) -> Settings:
    return settings.model_copy(
        update={
            "twilio_api_base": fake.base_url,
            "telegram_api_base": fake.base_url,
            "graph_api_base": fake.base_url,
        }
    )


@pytest.fixture
async def setup(settings: Settings, db: None) -> Setup:
    return await make_setup(settings)


def job_ctx(settings: Settings, broker: Broker, job_try: int = 1) -> dict[str, Any]:
    return {"settings": settings, "broker": broker, "job_try": job_try}


async def reply(setup: Setup, broker: Broker, channel, user: str, **content) -> Message:
    seeded = await seed_outbound(setup, channel, user, None, last_inbound_at=utcnow())
    await scoped(Message, setup.workspace).filter(id=seeded.id).delete()
    return await queue_reply(broker, setup.workspace, seeded.conversation_id, None, **content)


async def reload(setup: Setup, message: Message) -> Message:
    return await scoped(Message, setup.workspace).get(id=message.id)


# ------------------------------------------------------------------------ sending
@pytest.mark.parametrize(
    ("kind", "user", "provider"),
    [
        ("telegram", ANA, "telegram"),
        ("messenger", PSID, "messenger"),
        ("whatsapp", MARIA, "twilio"),
    ],
)
async def test_send_message_sends_once_and_records_the_provider_id(
    on_fake: Settings, fake: FakeProvider, setup: Setup, broker: Broker, kind, user, provider
) -> None:
    message = await reply(setup, broker, getattr(setup, kind), user, text="Your order shipped")
    ws, mid = str(setup.workspace.id), str(message.id)
    assert await send_message(job_ctx(on_fake, broker), ws, mid) == "sent"
    assert await send_message(job_ctx(on_fake, broker), ws, mid) == "skipped"
    [sent] = fake.state.list_sent_messages(provider)
    assert sent.text == "Your order shipped"
    stored = await reload(setup, message)
    assert (stored.status, stored.provider_message_id) == ("sent", sent.provider_message_id)
    assert stored.sent_at is not None


async def test_twilio_sends_pass_the_status_callback_url_and_templates(
    on_fake: Settings, fake: FakeProvider, setup: Setup, broker: Broker
) -> None:
    message = await reply(
        setup, broker, setup.whatsapp, MARIA, template=TEMPLATE, variables={"1": "1042"}
    )
    await send_message(job_ctx(on_fake, broker), str(setup.workspace.id), str(message.id))
    [sent] = fake.state.list_sent_messages("twilio")
    assert sent.fields["ContentSid"] == TEMPLATE
    assert sent.fields["ContentVariables"] == '{"1": "1042"}'
    assert sent.fields["StatusCallback"] == (
        f"http://inbox.test/webhooks/twilio/{setup.whatsapp.id}/status"
    )
    assert sent.to == MARIA


async def test_throttling_retries_no_sooner_than_retry_after(
    on_fake: Settings, fake: FakeProvider, setup: Setup, broker: Broker
) -> None:
    message = await reply(setup, broker, setup.whatsapp, MARIA, text="hi")
    fake.fail_next("twilio", 429, retry_after=30)
    with pytest.raises(Retry) as retry:
        await send_message(job_ctx(on_fake, broker), str(setup.workspace.id), str(message.id))
    assert retry.value.defer_score == 30_000
    assert (await reload(setup, message)).status == "queued"
    assert fake.state.list_sent_messages() == []


async def test_outages_retry_with_exponential_backoff_then_fail(
    on_fake: Settings, fake: FakeProvider, setup: Setup, broker: Broker
) -> None:
    message = await reply(setup, broker, setup.whatsapp, MARIA, text="hi")
    ws, mid = str(setup.workspace.id), str(message.id)
    delays = []
    for job_try in (1, 2, 3):
        fake.fail_next("twilio", 500)
        with pytest.raises(Retry) as retry:
            await send_message(job_ctx(on_fake, broker, job_try), ws, mid)
        delays.append(retry.value.defer_score)
    assert delays == [5_000, 10_000, 20_000]
    fake.fail_next("twilio", 503)
    assert await send_message(job_ctx(on_fake, broker, MAX_SEND_TRIES), ws, mid) == "failed"
    assert (await reload(setup, message)).status == "failed"


async def test_a_permanent_error_fails_with_the_providers_code_and_message(
    on_fake: Settings, fake: FakeProvider, setup: Setup, broker: Broker
) -> None:
    message = await reply(setup, broker, setup.whatsapp, MARIA, text="hi")
    fake.fail_next(
        "twilio",
        400,
        body={"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400},
    )
    result = await send_message(job_ctx(on_fake, broker), str(setup.workspace.id), str(message.id))
    assert result == "failed"
    failed = await reload(setup, message)
    assert (failed.status, failed.error_code) == ("failed", "21610")
    assert failed.error_message == "Attempt to send to unsubscribed recipient"
    assert failed.failed_at is not None


async def test_a_message_the_provider_accepted_before_a_crash_is_not_sent_again(
    on_fake: Settings, fake: FakeProvider, setup: Setup, broker: Broker
) -> None:
    message = await reply(setup, broker, setup.telegram, ANA, text="hi")
    # The provider took it and its id was written, then the worker died before
    # the job finished: the rerun must only mark it.
    await (
        scoped(Message, setup.workspace)
        .filter(id=message.id)
        .update(provider_message_id=f"{ANA}:1001")
    )
    result = await send_message(job_ctx(on_fake, broker), str(setup.workspace.id), str(message.id))
    assert result == "sent"
    assert fake.state.list_sent_messages() == []
    assert (await reload(setup, message)).status == "sent"


async def test_a_real_worker_sends_a_queued_reply(
    on_fake: Settings, fake: FakeProvider, setup: Setup, broker: Broker
) -> None:
    message = await reply(setup, broker, setup.telegram, ANA, text="From the worker")

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["settings"] = on_fake
        ctx["broker"] = broker

    worker = Worker(
        redis_settings=broker.redis_settings,
        burst=True,
        handle_signals=False,
        poll_delay=0.05,
        on_startup=on_startup,
        **(worker_options(on_fake) | {"cron_jobs": []}),
    )
    try:
        await worker.main()
    finally:
        with warnings.catch_warnings():
            # arq 0.28 closes its own pool with redis-py's deprecated close().
            warnings.simplefilter("ignore", DeprecationWarning)
            await worker.close()
    assert worker.jobs_complete == 1
    [sent] = fake.state.list_sent_messages("telegram")
    assert sent.text == "From the worker"
    assert (await reload(setup, message)).status == "sent"


# -------------------------------------------------------------------------- media
async def post_twilio_image(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, url: str, media_type: str
) -> Attachment:
    params = load("twilio/whatsapp-inbound-image.json", CHANNEL_NUMBER="+15550100000")
    params["MediaUrl0"], params["MediaContentType0"] = url, media_type
    path, raw, headers = twilio_request(settings, setup.whatsapp, params)
    assert (await client.post(path, content=raw, headers=headers)).status_code == 200
    return await scoped(Attachment, setup.workspace).get()


async def test_twilio_media_is_downloaded_with_basic_auth_into_storage(
    client: httpx.AsyncClient,
    on_fake: Settings,
    fake: FakeProvider,
    setup: Setup,
    broker: Broker,
) -> None:
    data = b"\xff\xd8\xff" + b"jpeg bytes" * 100
    url = fake.state.add_twilio_media(
        ACCOUNT_SID, "MMec7dccf823af7d603f3532df83cee121", data, "image/jpeg"
    )
    attachment = await post_twilio_image(client, on_fake, setup, url, "image/jpeg")
    ctx = job_ctx(on_fake, broker)
    assert await download_media(ctx, str(setup.workspace.id), str(attachment.id)) == "stored"
    stored = await scoped(Attachment, setup.workspace).get(id=attachment.id)
    assert (stored.size, stored.checksum) == (len(data), hashlib.sha256(data).hexdigest())
    assert stored.storage_key.startswith(f"{setup.workspace.id}/")
    path = on_fake.storage_dir / stored.storage_key
    assert path.read_bytes() == data
    assert "MMec7" not in str(path)
    # Run again: nothing is fetched twice.
    assert await download_media(ctx, str(setup.workspace.id), str(attachment.id)) == "stored"
    assert len(list((on_fake.storage_dir / str(setup.workspace.id)).iterdir())) == 1


async def test_media_above_the_size_limit_is_not_stored(
    client: httpx.AsyncClient,
    on_fake: Settings,
    fake: FakeProvider,
    setup: Setup,
    broker: Broker,
) -> None:
    small = on_fake.model_copy(update={"media_max_bytes": 100})
    url = fake.state.add_twilio_media(ACCOUNT_SID, "MM1", b"x" * 101, "image/jpeg")
    attachment = await post_twilio_image(client, small, setup, url, "image/jpeg")
    ctx = job_ctx(small, broker)
    assert await download_media(ctx, str(setup.workspace.id), str(attachment.id)) == "too_large"
    stored = await scoped(Attachment, setup.workspace).get(id=attachment.id)
    assert (stored.download_status, stored.storage_key) == ("too_large", None)
    assert not (small.storage_dir / str(setup.workspace.id)).exists()


async def test_media_of_a_type_we_do_not_keep_is_refused(
    client: httpx.AsyncClient,
    on_fake: Settings,
    fake: FakeProvider,
    setup: Setup,
    broker: Broker,
) -> None:
    url = fake.state.add_twilio_media(ACCOUNT_SID, "MM2", b"MZ...", "application/x-msdownload")
    attachment = await post_twilio_image(client, on_fake, setup, url, "application/x-msdownload")
    ctx = job_ctx(on_fake, broker)
    assert await download_media(ctx, str(setup.workspace.id), str(attachment.id)) == "refused"
    stored = await scoped(Attachment, setup.workspace).get(id=attachment.id)
    assert (stored.download_status, stored.storage_key) == ("refused", None)


async def test_telegram_documents_are_downloaded_through_get_file(
    client: httpx.AsyncClient,
    on_fake: Settings,
    fake: FakeProvider,
    setup: Setup,
    broker: Broker,
) -> None:
    data = b"%PDF-1.7 receipt"
    fake.state.add_telegram_file(data, file_id=PDF_FILE_ID, content_type="application/pdf")
    await post_fixture(client, on_fake, setup, "telegram/message-document.json")
    attachment = await scoped(Attachment, setup.workspace).get()
    ctx = job_ctx(on_fake, broker)
    assert await download_media(ctx, str(setup.workspace.id), str(attachment.id)) == "stored"
    stored = await scoped(Attachment, setup.workspace).get(id=attachment.id)
    assert (stored.media_type, stored.filename) == ("application/pdf", "receipt-1042.pdf")
    assert (on_fake.storage_dir / stored.storage_key).read_bytes() == data
    assert "receipt" not in stored.storage_key


async def test_a_reply_after_the_window_needs_a_template_end_to_end(
    on_fake: Settings, fake: FakeProvider, setup: Setup, broker: Broker
) -> None:
    seeded = await seed_outbound(
        setup, setup.whatsapp, MARIA, None, last_inbound_at=utcnow() - timedelta(days=2)
    )
    conversation = await scoped(Conversation, setup.workspace).get(id=seeded.conversation_id)
    message = await queue_reply(broker, setup.workspace, conversation.id, None, template=TEMPLATE)
    await send_message(job_ctx(on_fake, broker), str(setup.workspace.id), str(message.id))
    assert fake.state.list_sent_messages("twilio")[0].fields["ContentSid"] == TEMPLATE


async def test_a_provider_outage_during_a_download_is_retried(
    client: httpx.AsyncClient,
    on_fake: Settings,
    fake: FakeProvider,
    setup: Setup,
    broker: Broker,
) -> None:
    url = fake.state.add_twilio_media(ACCOUNT_SID, "MM3", b"\xff\xd8\xff data", "image/jpeg")
    attachment = await post_twilio_image(client, on_fake, setup, url, "image/jpeg")
    fake.fail_next("twilio", 503)
    with pytest.raises(Retry) as retry:
        await download_media(
            job_ctx(on_fake, broker, 2), str(setup.workspace.id), str(attachment.id)
        )
    assert retry.value.defer_score == 10_000
    assert (await scoped(Attachment, setup.workspace).get(id=attachment.id)).download_status == (
        "pending"
    )
    ctx = job_ctx(on_fake, broker, 3)
    assert await download_media(ctx, str(setup.workspace.id), str(attachment.id)) == "stored"


async def test_an_echo_stored_before_our_send_is_recorded_is_merged_into_our_message(
    client: httpx.AsyncClient, on_fake: Settings, setup: Setup, broker: Broker
) -> None:
    """Meta can post the echo of our own send before the job records its id: the
    echo's copy is dropped and our message keeps the id, so it exists once."""
    mid = "m_lC1gSDyqeB32N39klw_8l9xSltGuXTggUB8QMJE2Yssy2cJsrryCtFSSssOL-CDyzPNl7d6p8os3MVqD-xTYeQ"
    await post_fixture(client, on_fake, setup, "messenger/message-text.json")
    [inbound] = await scoped(Message, setup.workspace)
    ours = await queue_reply(broker, setup.workspace, inbound.conversation_id, None, text="Yes")
    await post_fixture(client, on_fake, setup, "messenger/message-echo.json")
    assert await scoped(Message, setup.workspace).filter(provider_message_id=mid).count() == 1
    await record_sent(ours, mid)
    [echo_or_ours] = await scoped(Message, setup.workspace).filter(provider_message_id=mid)
    assert (echo_or_ours.id, echo_or_ours.status) == (ours.id, "sent")
    assert await scoped(Message, setup.workspace).count() == 2
