"""WhatsApp message templates the composer can offer by name.

Outside the 24-hour window WhatsApp only accepts approved templates, which
Twilio names by Content SID. A real workspace types the SID of one of its
approved templates; the demo workspace offers its sample templates by name.
"""

from __future__ import annotations

from typing import Any

from inbox.models import Channel, ChannelKind
from inbox.settings import Settings


def templates_for(settings: Settings, channel: Channel) -> list[dict[str, Any]]:
    """Named templates for the picker; empty means "type a Content SID"."""
    if channel.kind != ChannelKind.WHATSAPP or not settings.demo:
        return []
    from inbox.demo import DEMO_TEMPLATES

    return [dict(template) for template in DEMO_TEMPLATES]
