"""The vocabulary of the privacy registry.

Each model declares one :class:`PrivacyRule` as its ``privacy`` attribute, next
to its fields. Export, purge, erasure, Sentry scrubbing, retention and the data
inventory read these declarations instead of keeping lists of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Scope(StrEnum):
    TENANT = "tenant"  # belongs to one workspace; carries workspace_id
    PLATFORM = "platform"  # belongs to the operator (may name a workspace)


class Disposal(StrEnum):
    """What happens to a row when its workspace is purged or its contact erased."""

    DELETE = "delete"
    ANONYMISE = "anonymise"  # personal fields cleared, the row kept
    KEEP = "keep"  # kept as is, with a reason (legal obligation, proof)
    NOT_APPLICABLE = "n/a"  # the row cannot relate to the subject


@dataclass(frozen=True)
class PrivacyRule:
    """How one table is treated by every privacy feature.

    - ``scope``: tenant-owned or platform-wide.
    - ``export``: included in the workspace's export archive.
    - ``contact_export``: included in one contact's access/portability export.
    - ``on_purge`` / ``on_erasure``: what purging the workspace / erasing a
      contact does to the row; ``reason`` says why when it is not a deletion.
    - ``personal_fields``: fields holding personal data (exported, erased,
      scrubbed from logs and error reports).
    - ``retention``: the rule that bounds its lifetime (a retention policy key,
      a fixed period, or "while the workspace exists").
    - ``purpose``: why the data is held, shown in the workspace's data inventory.
    """

    scope: Scope
    purpose: str
    retention: str
    export: bool = True
    contact_export: bool = False
    on_purge: Disposal = Disposal.DELETE
    on_erasure: Disposal = Disposal.NOT_APPLICABLE
    personal_fields: tuple[str, ...] = ()
    reason: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        keeps = {self.on_purge, self.on_erasure} & {Disposal.KEEP, Disposal.ANONYMISE}
        if keeps and not self.reason:
            raise ValueError("a row kept or anonymised on purge or erasure needs a reason")
