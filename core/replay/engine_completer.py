"""Any single Provider as a Completer: parse its answer into the contract, fall back on failure.

The router does this for a chain of providers with limits and repairs; replay
and tests sometimes want exactly one provider and nothing in between.
"""

from __future__ import annotations

import time

from core.llm.completion import Completion
from core.llm.contracts import parse_answer, safe_fallback
from core.llm.errors import ContractError, ProviderError
from core.llm.types import ChatRequest, Provider


class ProviderCompleter:
    """Implements `Completer` over one provider, with no retries."""

    def __init__(self, provider: Provider, *, timeout_s: float = 60.0) -> None:
        self.provider = provider
        self.timeout_s = timeout_s

    async def complete(self, request: ChatRequest) -> Completion:
        started = time.perf_counter()
        name = self.provider.name
        try:
            response = await self.provider.chat(request, timeout_s=self.timeout_s)
            value = parse_answer(request.task, response.content)
        except (ProviderError, ContractError) as exc:
            reason = f"{name}: {type(exc).__name__}: {exc}"
            return Completion(
                value=safe_fallback(request.task, reason),
                latency_s=time.perf_counter() - started,
                fallback_used=True,
                attempts=[reason],
                error=reason,
            )
        return Completion(
            value=value,
            raw=response.content,
            provider=response.provider or name,
            model=response.model,
            usage=response.usage,
            latency_s=time.perf_counter() - started,
            attempts=[f"{name}: ok"],
        )

    async def aclose(self) -> None:
        await self.provider.aclose()
