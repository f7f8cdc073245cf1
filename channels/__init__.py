"""Channel adapters: the translation layer between provider payloads and our types.

``channels`` never imports the inbox. Each provider lives in its own module
(``twilio``, ``telegram``, ``messenger``), loaded on first use by ``get_adapter``;
``fake`` is a local stand-in for the three providers' APIs, for tests and the demo.
"""

from channels.base import (
    CHANNEL_KINDS,
    ChannelAdapter,
    ProviderEndpoints,
    WebhookRequest,
    generate_webhook_secret,
    get_adapter,
    validate_credentials,
)
from channels.errors import (
    ChannelError,
    InvalidCredentials,
    MalformedPayload,
    ProviderError,
    SignatureError,
)
from channels.events import (
    ContactProfile,
    DownloadedMedia,
    Event,
    Ignored,
    InboundMessage,
    MediaRef,
    MessageEdited,
    OutboundMessage,
    ProviderProfile,
    SendResult,
    StatusUpdate,
    Watermark,
)

__all__ = [
    "CHANNEL_KINDS",
    "ChannelAdapter",
    "ChannelError",
    "ContactProfile",
    "DownloadedMedia",
    "Event",
    "Ignored",
    "InboundMessage",
    "InvalidCredentials",
    "MalformedPayload",
    "MediaRef",
    "MessageEdited",
    "OutboundMessage",
    "ProviderEndpoints",
    "ProviderError",
    "ProviderProfile",
    "SendResult",
    "SignatureError",
    "StatusUpdate",
    "Watermark",
    "WebhookRequest",
    "generate_webhook_secret",
    "get_adapter",
    "validate_credentials",
]
