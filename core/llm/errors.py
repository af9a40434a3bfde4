"""Why a model call failed; the router decides what to do about each.

ProviderError               any failure of one provider call
├── ProviderTimeout         no answer within the task's timeout
├── ProviderUnavailable     5xx, refused or dropped connection
├── RateLimited             429; `retry_after_s` when the provider said
├── BadResponse             a body that is not the protocol's JSON
└── Rejected                not sent at all: privacy, budget, breaker, rate limit
ContractError               an answer that does not satisfy the task's contract
└── ToolCallError           a proposed tool call the registry does not allow
"""

from __future__ import annotations


class ProviderError(Exception):
    """A provider call failed; the message is one line fit for a trace."""


class ProviderTimeout(ProviderError):
    """The provider did not answer in time."""


class ProviderUnavailable(ProviderError):
    """The provider is down or unreachable (5xx, connection error)."""


class RateLimited(ProviderError):
    """The provider said 429; `retry_after_s` is its Retry-After, if any."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class BadResponse(ProviderError):
    """The provider answered something that is not the protocol's JSON."""


class Rejected(ProviderError):
    """The call was not sent: no provider allowed, budget spent, or breaker open."""


class ContractError(ValueError):
    """A model's answer does not satisfy the task's contract; the message says how."""


class ToolCallError(ContractError):
    """A proposed tool call is not allowed by the registry."""
