"""Risk read from what an object is and does, never from where it happens to run.

The words come from `[guard]` in the knowledge files. They are looked for in
the object's own names (the job, its CronJob, the deployment) and in what the
alert says about it, after the values of place labels (namespace, cluster,
instance…) have been taken out: a report job in the `billing` namespace is
still a report job, and a `db-migrate` job in `payments` is still a migration.

>>> from core.llm.embedded.loader import builtin_knowledge
>>> k = builtin_knowledge()
>>> touches(Incident(labels={"namespace": "payments", "job_name": "db-migrate-v42"}), k)
'data_change'
>>> touches(Incident(labels={"namespace": "billing", "job_name": "weekly-report-28934520"},
...                  text="job billing/weekly-report-28934520 failed"), k) is None
True
>>> touches(Incident(labels={"cronjob": "invoice-run"}), k)
'money'
"""

from __future__ import annotations

import re
from functools import cache

from core.llm.embedded.incident import Incident, derived
from core.llm.embedded.knowledge import Knowledge

#: labels that name the object itself or say what it does
_OWN_NAMES = (
    "job_name",
    "cronjob",
    "owner_name",
    "deployment",
    "statefulset",
    "daemonset",
    "container",
    "app",
    "component",
    "purpose",
    "task",
)
_URL = re.compile(r"\bhttps?://\S+")


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def own_words(incident: Incident, knowledge: Knowledge) -> str:
    """The object's names and what the alert says it does, with places and links taken out."""
    names = [incident.labels.get(key, "") for key in _OWN_NAMES]
    names.append(derived(incident, "cronjob") or "")
    text = _URL.sub(" ", incident.text)
    places = {incident.labels.get(key, "") for key in knowledge.guard.places}
    for place in sorted(places - {""}, key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(place.lower())}(?![\w-])", " ", text)
    # the alert's name says what fired, not what the object does
    if incident.alert_name:
        text = text.replace(incident.alert_name.lower(), " ")
    return " ".join([*names, text]).lower()


def touches(incident: Incident, knowledge: Knowledge) -> str | None:
    """`data_change` or `money` when the object may migrate, delete, or touch data or money."""
    words = own_words(incident, knowledge)
    guard = knowledge.guard
    if any(_compiled(p).search(words) for p in guard.data_change):
        return "data_change"
    if any(_compiled(p).search(words) for p in guard.money):
        return "money"
    return None
