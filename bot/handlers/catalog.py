"""Every command this build answers, in the order /help and setMyCommands list them.

Only commands with a handler belong here (a test holds the two equal): what is
not built yet is not announced.
"""

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
    CommandInfo("debate", "<id>", "Debate an incident afresh: a new decision package"),
    CommandInfo("runs", "", "Recent runs and their states"),
    CommandInfo("runbooks", "", "Runbooks and anti-patterns, with their status"),
    CommandInfo("runbook", "<id>", "One runbook or anti-pattern, whole"),
    CommandInfo("drift", "", "Scan for config drift now: what differs from Git"),
    CommandInfo("alert", "<text>", "Open a manual incident"),
)
