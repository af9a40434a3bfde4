"""The alert storm the contract names, and how to read the chat after it.

1,000 alerts in 50 groups: 10 alert names x 5 namespaces, 20 pods each, sent as
Alertmanager sends them (each group re-sent with every alert so far). Used by
the storm test (tests/integration/test_storm.py) and `make bench`.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from typing import Any

from bot.playground.botapi import Posting

NAMES = tuple(f"HowlStorm{letter}" for letter in string.ascii_uppercase[:10])
NAMESPACES = tuple(f"storm-ns{n}" for n in range(5))
PODS = 20
GROUPS = tuple((name, namespace) for name in NAMES for namespace in NAMESPACES)
#: an edit of a message older than this announces nobody (Telegram notifies no one of an edit)
EDIT_GRACE_S = 10.0
#: what a storm digest's message starts with
DIGEST_HEADER = "Alert storm"


def group_webhook(name: str, namespace: str, pods: int) -> dict[str, Any]:
    """Alertmanager's webhook for one group with its first `pods` alerts."""
    severity = "critical" if name == NAMES[0] else "warning"
    alerts = [
        {
            "status": "firing",
            "labels": {
                "alertname": name, "namespace": namespace, "service": "svc",
                "pod": f"pod-{i}", "severity": severity,
            },
            "annotations": {"summary": f"{name} on {namespace}/pod-{i}"},
            "startsAt": "2026-11-23T00:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://127.0.0.1:9090/graph",
            "fingerprint": f"{NAMES.index(name):04x}{NAMESPACES.index(namespace):04x}{i:08x}",
        }
        for i in range(pods)
    ]  # fmt: skip
    return {
        "version": "4", "groupKey": f"{name}/{namespace}", "truncatedAlerts": 0,
        "status": "firing", "receiver": "howl",
        "groupLabels": {"alertname": name, "namespace": namespace}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093", "alerts": alerts,
    }  # fmt: skip


def rounds() -> list[list[dict[str, Any]]]:
    """The storm in the order Alertmanager would send it: every group, pod by pod."""
    return [[group_webhook(n, ns, pods) for n, ns in GROUPS] for pods in range(1, PODS + 1)]


def named(text: str) -> set[tuple[str, str]]:
    """The groups a message names with their namespace.

    A card names its incident anywhere in it; a digest lists many incidents, so
    there the name and the namespace must share a line.
    """
    chunks = text.splitlines() if DIGEST_HEADER in text else [text]
    return {
        (name, namespace)
        for chunk in chunks
        for name, namespace in GROUPS
        if _mentions(chunk, name) and namespace in chunk
    }


def _mentions(text: str, name: str) -> bool:
    # HowlStormA must not be found inside HowlStormAB (no such name today, but cheap)
    at = text.find(name)
    while at >= 0:
        end = at + len(name)
        if end == len(text) or not text[end].isalnum():
            return True
        at = text.find(name, end)
    return False


def unnamed(texts: Iterable[str]) -> list[tuple[str, str]]:
    """Groups no message names with their namespace."""
    seen: set[tuple[str, str]] = set()
    for text in texts:
        seen |= named(text)
    return [group for group in GROUPS if group not in seen]


def silent_announcements(postings: Sequence[Posting], chat_id: int) -> list[str]:
    """Groups first named by an edit of a message sent more than `EDIT_GRACE_S` before:
    announced to nobody. Empty when every incident arrived with a new message."""
    sent_at: dict[int, float] = {}
    seen: set[tuple[str, str]] = set()
    breaches: list[str] = []
    for posting in postings:
        if posting.chat_id != chat_id:
            continue
        if posting.method == "sendMessage":
            sent_at[posting.message_id] = posting.at
        fresh = named(posting.text) - seen
        seen |= fresh
        age = posting.at - sent_at.get(posting.message_id, posting.at)
        if fresh and age > EDIT_GRACE_S:
            breaches.extend(f"{n} {ns}: edit {age:.0f}s after its message" for n, ns in fresh)
    return breaches
