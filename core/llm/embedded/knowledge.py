"""What an experienced on-call engineer knows, as a schema over the data files in core/knowledge.

A family says how to recognise an alert (names, keywords), what usually causes
it, which read-only checks separate the causes, which kinds of action may help
(by intent — "roll back", "re-run the job" — never by a tool name) and the
evidence each needs, and why a person still has to look. The vocabulary says
what those intents, objects and kinds of evidence look like. Everything is
validated here, so a typo in a data file stops start-up instead of quietly
changing a decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.llm.schemas import RiskLevel

#: where an argument value may come from (see `core.llm.embedded.incident.resolve`)
_SOURCE = re.compile(r"^(=.+|(labels|annotations|derived)\.[A-Za-z_][A-Za-z0-9_]*)$")


class _Data(BaseModel):
    # a key nobody reads is a typo that would silently keep a default
    model_config = ConfigDict(extra="forbid", frozen=True)


def _regexes(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"bad regex {value!r}: {exc}") from None
    return values


class Cause(_Data):
    text: str = Field(min_length=1, max_length=500)
    confidence: float = Field(gt=0.0, le=1.0)


class ActionTemplate(_Data):
    """A kind of action that may help, and what the incident must show first."""

    intent: str = Field(min_length=1)
    risk: RiskLevel
    rationale: str = Field(min_length=1)
    effect: str = Field(min_length=1)
    rollback: str = ""
    #: evidence kinds ([evidence.X]) one of which the incident must carry
    requires: tuple[str, ...] = ()
    #: regexes one of which must occur in the incident's text
    requires_text: tuple[str, ...] = ()
    #: evidence kinds that make this action the wrong move (capacity, a failing dependency)
    blocked_by: tuple[str, ...] = ()
    #: argument role (object, namespace, an object kind) → sources tried in order
    args: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    _requires_text = field_validator("requires_text")(_regexes)

    @field_validator("args")
    @classmethod
    def _sources(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for role, sources in value.items():
            for source in sources:
                if not _SOURCE.match(source):
                    raise ValueError(
                        f"{role}: source {source!r} is not labels.X, annotations.X, "
                        "derived.X or =literal"
                    )
        return value


class Family(_Data):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1, max_length=200)
    #: regexes matched against the whole alert name, case-insensitively
    alertnames: tuple[str, ...] = ()
    #: lower-case phrases looked for in the alert's text when the name is unknown
    keywords: tuple[str, ...] = ()
    causes: tuple[Cause, ...] = Field(min_length=1)
    checks: tuple[str, ...] = Field(min_length=1)
    #: how bad acting on this family usually is when no change is proposed
    risk: RiskLevel
    why_human: str = ""
    worst_case: str = Field(min_length=1)
    verification: tuple[str, ...] = ()
    actions: tuple[ActionTemplate, ...] = ()
    #: the object kind read-only diagnostics look at first
    subject: str = ""
    #: whether a read-only diagnostic action is a useful first step (not for a heartbeat)
    diagnose: bool = True

    _alertnames = field_validator("alertnames")(_regexes)

    @field_validator("keywords")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(k != k.lower() or not k.strip() for k in value):
            raise ValueError("keywords must be non-empty and lower-case")
        return value


# A team file may add to a built-in table without repeating it, so "at least one phrase"
# (or word) is checked on the merged knowledge, in the loader, not here.


class ObjectKind(_Data):
    words: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @field_validator("sources")
    @classmethod
    def _sources(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [s for s in value if not _SOURCE.match(s)]
        if bad:
            raise ValueError(f"source {bad[0]!r} is not labels.X, annotations.X or derived.X")
        return value


class Intent(_Data):
    phrases: tuple[str, ...] = ()
    object: str = ""
    destructive: bool = False
    read_only: bool = False
    repeats_work: bool = False
    #: objects an intent without one `object` may act on, tried in order (diagnostics)
    subjects: tuple[str, ...] = ()

    _phrases = field_validator("phrases")(_regexes)


class EvidenceKind(_Data):
    phrases: tuple[str, ...] = ()
    negations: tuple[str, ...] = ()
    label_keys: tuple[str, ...] = ()
    label_values: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    _patterns = field_validator("phrases", "negations", "label_keys")(_regexes)


class Guard(_Data):
    data_change: tuple[str, ...] = ()
    money: tuple[str, ...] = ()
    places: tuple[str, ...] = ()

    _patterns = field_validator("data_change", "money")(_regexes)


class RiskFloor(_Data):
    """A situation whose risk is never below `risk`, whatever action is or is not proposed."""

    risk: RiskLevel
    #: what a person is told when this floor raised the risk
    why: str = Field(min_length=1, max_length=300)
    #: families that are this situation by definition (an HPA at its maximum)
    families: tuple[str, ...] = ()
    #: groups of regexes; the situation holds when every group has one that occurs
    all_of: tuple[tuple[str, ...], ...] = ()

    @field_validator("all_of")
    @classmethod
    def _groups(cls, value: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
        if any(not group for group in value):
            raise ValueError("every group needs at least one regex")
        for group in value:
            _regexes(group)
        return value


class Attention(_Data):
    """When proposing no change still needs a person: almost always, for a firing alert."""

    #: severities at which an alert is only information
    quiet_severities: tuple[str, ...] = ()
    #: context statuses of an alert that no longer fires
    settled_statuses: tuple[str, ...] = ()
    #: regexes saying something is failing or about to: a person looks even at info level
    failing: tuple[str, ...] = ()

    _patterns = field_validator("failing")(_regexes)


class KnowledgeFile(_Data):
    """One data file: families, objects, intents, evidence kinds, guard words, risk floors."""

    family: tuple[Family, ...] = ()
    object: dict[str, ObjectKind] = Field(default_factory=dict)
    intent: dict[str, Intent] = Field(default_factory=dict)
    evidence: dict[str, EvidenceKind] = Field(default_factory=dict)
    guard: Guard = Field(default_factory=Guard)
    floor: dict[str, RiskFloor] = Field(default_factory=dict)
    attention: Attention = Field(default_factory=Attention)


@dataclass(frozen=True)
class Knowledge:
    """Everything the engine knows, merged from the built-in files and a team's own."""

    families: tuple[Family, ...]
    objects: dict[str, ObjectKind]
    intents: dict[str, Intent]
    evidence: dict[str, EvidenceKind]
    guard: Guard
    floors: dict[str, RiskFloor]
    attention: Attention

    def family(self, key: str) -> Family | None:
        return next((f for f in self.families if f.key == key), None)
