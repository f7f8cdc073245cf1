"""Provider webhooks: the HTTP side of inbound messages and status callbacks."""
