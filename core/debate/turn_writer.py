"""A debate's turns written in order behind it, while the next agent is already asked.

An agent's turn is appended as soon as it answered, but the debate does not wait
for the write: the next agent's call starts at once and the write runs beside it.
Each write starts only after the one before succeeded, so the log keeps the
debate's order; `written` (awaited before the package is concluded) raises the
first write that failed, and a failure already known stops the next append.
"""

from __future__ import annotations

import asyncio

import structlog

from core.debate.models import AgentTurn
from core.debate.ports import TurnLog

log = structlog.get_logger(__name__)


class TurnWriter:
    def __init__(self, turns: TurnLog) -> None:
        self._turns = turns
        self._last: asyncio.Task[None] | None = None

    def append(self, *turns: AgentTurn) -> None:
        """Queue the turns' write (one, for all of them) behind the others; raises a write
        that already failed."""
        last = self._last
        settled = last is not None and last.done() and not last.cancelled()
        failed = last.exception() if last is not None and settled else None
        if failed is not None:
            raise failed
        self._last = asyncio.create_task(self._write_after(last, turns), name="debate-turn")

    async def _write_after(
        self, previous: asyncio.Task[None] | None, turns: tuple[AgentTurn, ...]
    ) -> None:
        if previous is not None:
            await previous  # its failure is ours: nothing is written out of order
        await self._turns.append(*turns)

    async def written(self) -> None:
        """Until every queued turn is in the log; raises the first write that failed."""
        if self._last is not None:
            await asyncio.shield(self._last)

    async def settled(self) -> None:
        """`written` for a debate that is ending anyway: a failed write is logged, not raised."""
        try:
            await self.written()
        except Exception:
            log.exception("debate_turn_write_failed")
