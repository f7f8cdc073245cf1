"""Conversations: listing, searching and handling them (status, assignee, tags, notes)."""
