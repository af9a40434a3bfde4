"""Errors meant for people: each carries a message fit to show as one line.

HowlError
├── ConfigError          a setting or the HOWL_CONFIG file is wrong
├── NotFoundError        an id that names nothing (incident, run, runbook)
├── InvalidInputError    a payload or argument that fails validation
│   └── PayloadError     an intake body; `.field` names the culprit
└── ConflictError        a state change that is not allowed from here
"""

from __future__ import annotations


class HowlError(Exception):
    """Base of every error Howl shows to a person."""


class ConfigError(HowlError):
    """A setting or configuration file is wrong; the message names which."""


class NotFoundError(HowlError):
    """The id given names nothing."""


class InvalidInputError(HowlError):
    """Input failed validation; the message says what was expected."""


class PayloadError(InvalidInputError):
    """An intake body is malformed; `field` is a dotted path to the bad field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.reason = message


class ConflictError(HowlError):
    """The change is not allowed in the current state."""
