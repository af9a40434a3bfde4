"""What /status reports, as a value."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StatusReport(BaseModel):
    version: str
    uptime_s: float
    mode: str
    database: str
    database_ok: bool
    #: bytes on disk; None when the database did not say
    database_bytes: int | None = None
    schema_revision: str | None
    shadow: bool
    llm: str
    counts: dict[str, int] = Field(default_factory=dict)
