"""What a free-text search matches on a contact: name, username or phone.

A term made of digits and phone punctuation only ("+1 555-0123") is compared
with the phone number's digits and nothing else; any other term is matched,
case-insensitively, against the name and the username. One predicate per kind
of term keeps the scan cheap on large workspaces.
"""

from __future__ import annotations

import re

from tortoise.expressions import Q

from inbox.errors import InvalidInput

SEARCH_MAX_LENGTH = 100
PHONE_LIKE = re.compile(r"^[\d\s+().-]+$")


def search_term(q: str) -> str:
    term = q.strip()
    if len(term) > SEARCH_MAX_LENGTH:
        raise InvalidInput(
            f"search text is limited to {SEARCH_MAX_LENGTH} characters", code="invalid_filter"
        )
    return term


def contact_search(term: str) -> Q:
    """The contact filter for a (non-empty) search term."""
    digits = "".join(ch for ch in term if ch.isdigit())
    if digits and PHONE_LIKE.match(term):
        return Q(phone__contains=digits)
    return Q(display_name__icontains=term) | Q(username__icontains=term)
