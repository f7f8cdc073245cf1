"""Contact enrichment through the local fake provider (real SDKs, loopback HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from arq import Retry

from channels.fake import FakeProvider, run_fake_provider
from inbox.contacts.enrichment import (
    EnrichLater,
    acquire_provider_calls,
    enrich_contact_profile,
    normalize_phone,
)
from inbox.models import Contact
from inbox.runtime import Runtime
from inbox.settings import Settings
from inbox.tenancy import scoped
from tests.inbox.privacy.retention_factory import (
    NOW,
    ago,
    make_channel,
    make_contact,
    make_identity,
    make_workspace,
    stored,
)
from workers.enrichment import MAX_ENRICH_TRIES, enrich_contact, refresh_stale_profiles

BOT_TOKEN = "7000000001:AAH-fake_token_for_enrichment_tests"
CHAT_ID = 5511223344
PAGE_ID = "101234567890123"
PAGE_TOKEN = "EAAGfakePageAccessTokenEnrichment"
PSID = "24683579135792468"
MESSENGER = {"page_id": PAGE_ID, "page_access_token": PAGE_TOKEN, "app_secret": "s" * 16,
             "verify_token": "v"}
WHATSAPP = {"account_sid": "AC" + "a" * 32, "auth_token": "t" * 32,
            "from_number": "whatsapp:+15550100000"}
PHOTO = b"\xff\xd8\xff\xe0fake-jpeg-bytes"


@pytest.fixture
async def fake() -> AsyncIterator[FakeProvider]:
    async with run_fake_provider() as provider:
        provider.state.add_telegram_bot(BOT_TOKEN)
        provider.state.add_messenger_page(PAGE_ID, PAGE_TOKEN)
        yield provider


@pytest.fixture
def faked(settings: Settings, fake: FakeProvider) -> Settings:
    return settings.model_copy(
        update={
            "graph_api_base": fake.base_url,
            "telegram_api_base": fake.base_url,
            "twilio_api_base": fake.base_url,
        }
    )


def job_ctx(runtime: Runtime, settings: Settings, job_try: int = 1) -> dict:
    return {"settings": settings, "broker": runtime.broker, "now": NOW, "job_try": job_try}


async def telegram_contact(runtime: Runtime, settings: Settings, **fields) -> Contact:
    ws = await make_workspace()
    channel = await make_channel(settings, ws, "telegram", {"bot_token": BOT_TOKEN})
    contact = await make_contact(ws, **fields)
    await make_identity(ws, contact, channel, str(CHAT_ID))
    return contact


async def reload(contact: Contact) -> Contact:
    return await scoped(Contact, contact.workspace_id).get(id=contact.id)


async def test_telegram_profile_and_photo(runtime, faked, fake):
    fake.state.add_telegram_chat(CHAT_ID, "Ana", last_name="Souza", username="ana_souza",
                                 bio="not kept")
    fake.state.add_telegram_profile_photo(CHAT_ID, PHOTO)
    contact = await telegram_contact(runtime, faked, display_name="")

    status = await enrich_contact(job_ctx(runtime, faked), str(contact.workspace_id),
                                  str(contact.id))

    assert status == "enriched"
    contact = await reload(contact)
    assert contact.display_name == "Ana Souza"
    assert contact.username == "ana_souza"
    assert contact.profile["display_name"] == {
        "value": "Ana Souza", "source": "telegram.getChat", "fetched_at": NOW.isoformat()
    }
    assert contact.profile["first_name"]["value"] == "Ana"
    assert "bio" not in contact.profile
    assert contact.profile_fetched_at == NOW
    assert contact.avatar_key.startswith(f"{contact.workspace_id}/avatars/")
    assert stored(faked, contact.avatar_key)
    assert (faked.storage_dir / contact.avatar_key).read_bytes() == PHOTO
    assert contact.profile["avatar"]["value"] == contact.avatar_key


async def test_messenger_profile_and_picture(runtime, faked, fake):
    fake.state.add_messenger_profile(PSID, "Lea", last_name="Martin", picture=PHOTO)
    ws = await make_workspace()
    channel = await make_channel(faked, ws, "messenger", MESSENGER)
    contact = await make_contact(ws, display_name="")
    await make_identity(ws, contact, channel, PSID)

    outcome = await enrich_contact_profile(faked, runtime.broker.redis, ws.id, contact.id,
                                           now=NOW)

    assert outcome.status == "enriched"
    contact = await reload(contact)
    assert contact.display_name == "Lea Martin"
    assert contact.profile["last_name"] == {
        "value": "Martin", "source": "messenger.user_profile", "fetched_at": NOW.isoformat()
    }
    assert (faked.storage_dir / contact.avatar_key).read_bytes() == PHOTO


async def test_whatsapp_phone_is_normalised_with_its_country(runtime, faked):
    ws = await make_workspace()
    channel = await make_channel(faked, ws, "whatsapp", WHATSAPP)
    webhook_name = {"value": "Maria Lopez", "source": "twilio.webhook", "fetched_at": "x"}
    contact = await make_contact(ws, display_name="Maria Lopez",
                                 profile={"display_name": webhook_name})
    await make_identity(ws, contact, channel, "whatsapp:+33612345678")

    outcome = await enrich_contact_profile(faked, runtime.broker.redis, ws.id, contact.id,
                                           now=NOW)

    contact = await reload(contact)
    assert outcome.status == "enriched"
    assert contact.phone == "+33612345678"
    assert contact.profile["phone"]["source"] == "twilio.webhook"
    assert contact.profile["country"]["value"] == "FR"
    assert contact.profile["display_name"] == webhook_name  # the webhook's name stays
    assert contact.display_name == "Maria Lopez"


def test_phone_numbers_are_normalised_to_e164():
    assert normalize_phone("whatsapp:+33 6 12 34 56 78") == ("+33612345678", "FR")
    assert normalize_phone("+1 555 555 0123") == ("+15555550123", "US")
    assert normalize_phone("0612345678") is None  # no country code: cannot tell
    assert normalize_phone("+12") is None


async def test_an_agents_correction_is_never_overwritten(runtime, faked, fake):
    fake.state.add_telegram_chat(CHAT_ID, "Ana", last_name="Souza", username="ana_souza")
    corrected = {"value": "Ana (VIP)", "source": "agent", "fetched_at": ago(3).isoformat()}
    contact = await telegram_contact(runtime, faked, display_name="Ana (VIP)",
                                     profile={"display_name": corrected})

    await enrich_contact(job_ctx(runtime, faked), str(contact.workspace_id), str(contact.id))

    contact = await reload(contact)
    assert contact.display_name == "Ana (VIP)"
    assert contact.profile["display_name"] == corrected
    assert contact.username == "ana_souza"  # what the agent did not touch is enriched


@pytest.mark.parametrize("flag", ["restricted", "objected"])
async def test_restricted_or_objecting_contacts_are_never_enriched(runtime, faked, fake, flag):
    fake.state.add_telegram_chat(CHAT_ID, "Ana", username="ana_souza")
    contact = await telegram_contact(runtime, faked, display_name="", **{flag: True})

    status = await enrich_contact(job_ctx(runtime, faked), str(contact.workspace_id),
                                  str(contact.id))

    contact = await reload(contact)
    assert status == "skipped"
    assert contact.display_name == "" and contact.username is None
    assert contact.profile == {} and contact.profile_fetched_at is None


async def test_only_new_or_stale_profiles_are_fetched(runtime, faked, fake):
    fake.state.add_telegram_chat(CHAT_ID, "Ana", username="ana_souza")
    max_age = faked.profile_max_age_days
    fresh = await telegram_contact(runtime, faked, display_name="",
                                   profile_fetched_at=NOW - timedelta(days=max_age, seconds=-1))
    ctx = job_ctx(runtime, faked)
    assert await enrich_contact(ctx, str(fresh.workspace_id), str(fresh.id)) == "fresh"
    assert (await reload(fresh)).username is None

    await scoped(Contact, fresh.workspace_id).filter(id=fresh.id).update(
        profile_fetched_at=NOW - timedelta(days=max_age, seconds=1)
    )
    assert await enrich_contact(ctx, str(fresh.workspace_id), str(fresh.id)) == "enriched"
    assert (await reload(fresh)).username == "ana_souza"


async def test_a_provider_429_retries_with_backoff(runtime, faked, fake):
    fake.state.add_telegram_chat(CHAT_ID, "Ana")
    contact = await telegram_contact(runtime, faked)
    fake.fail_next("telegram", 429, retry_after=7)

    with pytest.raises(Retry) as retry:
        await enrich_contact(job_ctx(runtime, faked, job_try=2), str(contact.workspace_id),
                             str(contact.id))

    assert retry.value.defer_score is not None and retry.value.defer_score >= 7000
    assert (await reload(contact)).profile_fetched_at is None
    # The next try goes through.
    assert await enrich_contact(job_ctx(runtime, faked, job_try=3), str(contact.workspace_id),
                                str(contact.id)) == "enriched"


async def test_the_last_try_gives_up_and_moves_on(runtime, faked, fake):
    contact = await telegram_contact(runtime, faked)
    fake.fail_next("telegram", 503)

    status = await enrich_contact(job_ctx(runtime, faked, job_try=MAX_ENRICH_TRIES),
                                  str(contact.workspace_id), str(contact.id))

    assert status == "gave_up"
    assert (await reload(contact)).profile_fetched_at == NOW


async def test_the_per_channel_limiter_spreads_a_burst(runtime):
    redis = runtime.broker.redis
    ws = await make_workspace()
    await acquire_provider_calls(redis, ws.id, 3, limit=5)
    with pytest.raises(EnrichLater) as later:
        await acquire_provider_calls(redis, ws.id, 3, limit=5)
    assert later.value.reason == "rate_limited"
    assert 0 < later.value.defer <= 1.0
    for _ in range(3):
        with pytest.raises(EnrichLater) as further:
            await acquire_provider_calls(redis, ws.id, 3, limit=5)
    assert further.value.defer > 1.0  # later arrivals wait for later windows


async def test_a_full_limiter_postpones_the_job(runtime, faked, fake):
    fake.state.add_telegram_chat(CHAT_ID, "Ana")
    contact = await telegram_contact(runtime, faked)
    with pytest.raises(EnrichLater):
        await enrich_contact_profile(faked, runtime.broker.redis, contact.workspace_id,
                                     contact.id, now=NOW, rate_limit=1)
    assert (await reload(contact)).profile_fetched_at is None


async def test_the_cron_queues_recently_active_stale_contacts(runtime, faked):
    ws = await make_workspace()
    stale = ago(faked.profile_max_age_days + 1)
    due = await make_contact(ws, profile_fetched_at=stale)
    never = await make_contact(ws, profile_fetched_at=None)
    await make_contact(ws, profile_fetched_at=ago(1))  # fresh
    await make_contact(ws, profile_fetched_at=stale, restricted=True)
    await make_contact(ws, profile_fetched_at=stale, objected=True)
    await make_contact(ws, profile_fetched_at=stale, last_activity_at=ago(60))  # gone quiet
    ctx = job_ctx(runtime, faked)

    assert await refresh_stale_profiles(ctx) == 2
    redis = runtime.broker.redis
    for contact in (due, never):
        assert await redis.exists(f"arq:job:enrich:{contact.id}")
    assert await refresh_stale_profiles(ctx) == 0  # already queued: same job ids
