"""Every command of the contract, in the order /help lists them."""

from __future__ import annotations

from typing import NamedTuple


class CommandInfo(NamedTuple):
    name: str
    args: str
    description: str


CATALOG: tuple[CommandInfo, ...] = (
    CommandInfo("start", "", "What Howl is and how to begin"),
    CommandInfo("help", "", "Every command"),
    CommandInfo("status", "", "Version, uptime, database, mode and counts"),
    CommandInfo("incidents", "", "Open incidents"),
    CommandInfo("incident", "<id>", "One incident in detail"),
    CommandInfo("ack", "<id>", "Acknowledge an incident"),
    CommandInfo("resolve", "<id>", "Resolve an incident"),
    CommandInfo("silence", "<id> <30m|2h>", "Silence an incident for a while"),
    CommandInfo("debate", "<id>", "Run the agents' debate on an incident"),
    CommandInfo("runs", "", "Recent runs and their states"),
    CommandInfo("runbooks", "", "Published and draft runbooks"),
    CommandInfo("drift", "", "The latest config drift report"),
    CommandInfo("alert", "<text>", "Open a manual incident"),
)
