"""Contacts: the people who write to a workspace, and rectifying what we hold on them."""
