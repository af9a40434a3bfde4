"""The append-only audit trail: who did what to which subject, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditEntry(BaseModel):
    """One line of the trail; `actor` is `tg:<user id>`, `http`, `system` or a job name."""

    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any] = Field(default_factory=dict)
