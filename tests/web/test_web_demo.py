"""The demo: seeding, the in-process fake provider and the phone simulator."""

from __future__ import annotations

import asyncio

import httpx

from inbox.app import create_app
from inbox.demo import (
    DEMO_SLUG,
    PERSONAS,
    SAMPLE_MESSAGES,
    TELEGRAM_BOT_TOKEN,
    all_personas,
    seed_demo,
)
from inbox.models import Channel, Contact, Conversation, Message, Workspace
from inbox.tenancy import scoped
from inbox.web.demo_runtime import run_demo
from tests.web.conftest import csrf_of


async def test_seeding_twice_changes_nothing(settings, db) -> None:
    first = await seed_demo(settings)
    second = await seed_demo(settings)
    assert first.workspace.id == second.workspace.id
    assert await Workspace.filter(slug=DEMO_SLUG).count() == 1
    channels = await scoped(Channel, first.workspace).all()
    assert sorted(c.kind for c in channels) == ["messenger", "telegram", "whatsapp"]
    # The Telegram bot was registered with a short-lived fake, not the real API.
    assert settings.telegram_api_base == "https://api.telegram.org"


def demo_app(settings, runtime):
    settings.demo = True
    app = create_app(settings, with_worker=False)
    app.state.runtime = runtime
    return app


async def test_the_demo_runs_the_fake_provider_and_delivers_samples(settings, runtime) -> None:
    app = demo_app(settings, runtime)
    async with run_demo(app, settings) as demo:
        assert settings.twilio_api_base == demo.base_url == settings.graph_api_base
        hook = demo.state.telegram_webhooks[TELEGRAM_BOT_TOKEN]
        assert hook.url == settings.public_link(
            f"/webhooks/telegram/{demo.channels['telegram'].id}")
        conversations = await scoped(Conversation, demo.workspace).count()
        assert conversations == len({index for index, _ in SAMPLE_MESSAGES})
        inbound = await scoped(Message, demo.workspace).filter(direction="inbound").count()
        assert inbound == len(SAMPLE_MESSAGES)
        names = set(await scoped(Contact, demo.workspace).values_list("display_name", flat=True))
        assert {"Maria Lopez", "Jonas Weber"} <= names
    async with run_demo(app, settings) as demo:
        assert await scoped(Conversation, demo.workspace).count() == conversations
    assert len(all_personas()) >= len(PERSONAS)


async def test_the_simulator_sends_through_the_signed_webhook(settings, runtime) -> None:
    app = demo_app(settings, runtime)
    async with run_demo(app, settings) as demo:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://inbox.test") as http:
            page = await http.get("/demo/simulator")
            assert page.status_code == 200
            assert "Phone simulator" in page.text
            assert "script-src 'self'" in page.headers["content-security-policy"]
            token = page.text.split('data-token="', 1)[1].split('"', 1)[0]
            forged = await http.post("/demo/simulator/telegram/send", json={"text": "hi"},
                                     headers={"X-Simulator-Token": "forged"})
            assert forged.status_code == 400
            answer = await http.post("/demo/simulator/telegram/send",
                                     json={"text": "Is the shop open? <b>now</b>"},
                                     headers={"X-Simulator-Token": token})
            assert answer.status_code == 202
            form = await http.post("/demo/simulator/messenger/send",
                                   data={"text": "From the form", "token": token})
            assert form.status_code == 303
            chats = (await http.get("/demo/simulator/chats")).json()
        stored = await scoped(Message, demo.workspace).filter(
            text="Is the shop open? <b>now</b>").first()
        assert stored is not None and stored.direction == "inbound"
        assert chats["telegram"][-1]["text"] == "Is the shop open? <b>now</b>"
        assert chats["telegram"][-1]["mine"] is True
        assert chats["messenger"][-1]["text"] == "From the form"


async def test_an_agent_reply_reaches_the_phone(settings, runtime) -> None:
    from inbox.conversations.queries import get_conversation
    from workers.messaging import send_message

    app = demo_app(settings, runtime)
    async with run_demo(app, settings) as demo:
        demo.state.receipt_delay = 0.05
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://inbox.test") as http:
            login = await http.get("/login")
            assert "admin@demo.inbox.test" in login.text  # the demo login is shown
            await http.post("/login", data={"email": "admin@demo.inbox.test",
                                            "password": "demo-password",
                                            "csrf_token": csrf_of(login.text)})
            inbox = (await http.get("/inbox")).text
            assert 'href="/demo/simulator" target="inbox-simulator"' in inbox
            lena = await scoped(Conversation, demo.workspace).filter(
                channel_id=demo.channels["messenger"].id).first()
            await get_conversation(demo.workspace, lena.id)
            answer = await http.post(f"/api/v1/conversations/{lena.id}/messages",
                                     json={"text": "Yes, we ship to Austria."},
                                     headers={"X-CSRF-Token": csrf_of(inbox)})
            assert answer.status_code == 202
            ctx = {"settings": settings, "broker": runtime.broker}
            await send_message(ctx, str(demo.workspace.id), answer.json()["id"])
            for _ in range(50):
                chats = (await http.get("/demo/simulator/chats")).json()
                if chats["messenger"][-1]["status"] == "read":
                    break
                await asyncio.sleep(0.1)
        reply = chats["messenger"][-1]
        assert (reply["mine"], reply["text"], reply["status"]) == (
            False, "Yes, we ship to Austria.", "read")
