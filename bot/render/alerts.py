"""What a group of alerts has in common, what sets each one apart, and its links.

A card names what every alert shares once and gives each alert only what
differs, so twenty pods of one rule read as twenty pod names rather than
twenty copies of the same summary and labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.render.html import link
from core.alerting.models import Alert

#: (what a card calls the link, the annotations that may hold it, first found wins);
#: Grafana's dashboardURL/panelURL/silenceURL arrive as the `_url` annotations
LINK_ANNOTATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Runbook", ("runbook_url", "runbook")),
    ("Dashboard", ("dashboard_url", "dashboard")),
    ("Panel", ("panel_url", "panel")),
    ("Silence", ("silence_url",)),
)
#: the sender's link to the rule or query behind the alert (`generatorURL`)
SOURCE = "Source"


def links_of(alert: Alert) -> dict[str, tuple[str | None, str]]:
    """Link label -> (the annotation it came from, URL), for every web link the alert carries.

    A value that is not a web link (`javascript:`, a relative path, plain text)
    is no link; it stays an ordinary annotation.
    """
    found: dict[str, tuple[str | None, str]] = {}
    for label, keys in LINK_ANNOTATIONS:
        for key in keys:
            url = alert.annotations.get(key)
            if url and link(url, label):
                found[label] = (key, url)
                break
    if alert.generator_url and link(alert.generator_url, SOURCE):
        found[SOURCE] = (None, alert.generator_url)
    return found


def urls_of(alert: Alert) -> dict[str, str]:
    """Link label -> URL."""
    return {label: url for label, (_key, url) in links_of(alert).items()}


def text_annotations(alert: Alert) -> dict[str, str]:
    """The annotations that are not shown as links."""
    as_links = {key for key, _url in links_of(alert).values() if key is not None}
    return {k: v for k, v in alert.annotations.items() if k not in as_links}


def shared(maps: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """The entries every map has with the same value.

    >>> shared([{"a": "1", "b": "2"}, {"a": "1", "b": "3"}])
    {'a': '1'}
    """
    if not maps:
        return {}
    first, *rest = maps
    return {k: v for k, v in first.items() if all(m.get(k) == v for m in rest)}


def apart(values: Mapping[str, str], common: Mapping[str, str]) -> dict[str, str]:
    """The entries of `values` that `common` does not already say.

    >>> apart({"a": "1", "pod": "x"}, {"a": "1"})
    {'pod': 'x'}
    """
    return {k: v for k, v in values.items() if common.get(k) != v}


@dataclass(frozen=True)
class Shared:
    """What every listed alert of an incident has in common."""

    #: the incident's grouping labels first, then the labels all alerts share
    labels: dict[str, str]
    links: dict[str, str]
    annotations: dict[str, str]
    #: the one summary several alerts all give; None for a single alert or when they differ
    summary: str | None

    @classmethod
    def of(cls, group_labels: Mapping[str, str], alerts: Sequence[Alert]) -> Shared:
        common = shared([a.labels for a in alerts]) if alerts else {}
        summaries = {a.summary for a in alerts}
        return cls(
            labels={**group_labels, **{k: v for k, v in common.items() if k not in group_labels}},
            links=shared([urls_of(a) for a in alerts]),
            annotations=shared([text_annotations(a) for a in alerts]),
            summary=summaries.pop() if len(alerts) > 1 and len(summaries) == 1 else None,
        )
