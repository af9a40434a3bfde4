"""Reading the knowledge data files: the built-in ones and those a team names in HOWL_CONFIG.

Any problem is one ConfigError line naming the file and the field, so a bad
file stops `howl run` before anything starts:

>>> import tempfile, pathlib
>>> bad = pathlib.Path(tempfile.mkdtemp()) / "team.toml"
>>> _ = bad.write_text('[[family]]\\nkey = "x"\\n')
>>> try:
...     load_knowledge([bad])
... except ConfigError as exc:
...     print(str(exc).replace(str(bad), "team.toml"))
knowledge file team.toml: family[0].title: Field required
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from core.errors import ConfigError
from core.llm.embedded.knowledge import Family, Knowledge, KnowledgeFile

#: the built-in vocabulary is read first: families refer to its intents and evidence
_VOCABULARY = "vocabulary.toml"


def _where(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _problem(path: str, where: str, reason: str) -> ConfigError:
    return ConfigError(f"knowledge file {path}: {where}: {reason}")


def _read(path: str, text: str) -> KnowledgeFile:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"knowledge file {path}: not valid TOML: {exc}") from None
    try:
        return KnowledgeFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _where(first["loc"]) or "file"
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise _problem(path, where, reason) from None


def _merged(base: BaseModel, extra: BaseModel) -> Any:
    """Lists a team sets are added to the built-in ones; a value it sets replaces it."""
    values = base.model_dump()
    for name in extra.model_fields_set:
        value = getattr(extra, name)
        values[name] = (*getattr(base, name), *value) if isinstance(value, tuple) else value
    return type(base).model_validate(values)


def _merge_table(into: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for name, value in extra.items():
        into[name] = _merged(into[name], value) if name in into else value


def _check(path: str, data: KnowledgeFile, knowledge: Knowledge) -> None:
    """References between tables: an intent, evidence kind or object that does not exist."""
    for name in data.object:
        if not knowledge.objects[name].words:
            raise _problem(path, f"object.{name}.words", "at least one word is needed")
    for name in data.intent:
        if not knowledge.intents[name].phrases:
            raise _problem(path, f"intent.{name}.phrases", "at least one phrase is needed")
    for name, intent in data.intent.items():
        if intent.object and intent.object not in knowledge.objects:
            raise _problem(path, f"intent.{name}.object", f"unknown object {intent.object!r}")
        if unknown := [s for s in intent.subjects if s not in knowledge.objects]:
            raise _problem(path, f"intent.{name}.subjects", f"unknown object {unknown[0]!r}")
    for f_index, family in enumerate(data.family):
        where = f"family[{f_index}]"
        if family.subject and family.subject not in knowledge.objects:
            raise _problem(path, f"{where}.subject", f"unknown object {family.subject!r}")
        for a_index, action in enumerate(family.actions):
            here = f"{where}.actions[{a_index}]"
            if action.intent not in knowledge.intents:
                raise _problem(path, f"{here}.intent", f"unknown intent {action.intent!r}")
            for field in ("requires", "blocked_by"):
                unknown = [e for e in getattr(action, field) if e not in knowledge.evidence]
                if unknown:
                    raise _problem(path, f"{here}.{field}", f"unknown evidence {unknown[0]!r}")
    families = {family.key for family in knowledge.families} | {f.key for f in data.family}
    for name, floor in data.floor.items():
        if unknown := [f for f in floor.families if f not in families]:
            raise _problem(path, f"floor.{name}.families", f"unknown family {unknown[0]!r}")
        if not (knowledge.floors[name].families or knowledge.floors[name].all_of):
            raise _problem(path, f"floor.{name}", "needs families or all_of")
    keys = [family.key for family in data.family]
    if duplicate := next((k for k in keys if keys.count(k) > 1), None):
        raise _problem(path, "family", f"key {duplicate!r} appears twice")


def _add(knowledge: Knowledge, data: KnowledgeFile, *, team: bool) -> Knowledge:
    objects, intents, evidence, floors = (
        dict(knowledge.objects),
        dict(knowledge.intents),
        dict(knowledge.evidence),
        dict(knowledge.floors),
    )
    _merge_table(objects, data.object)
    _merge_table(intents, data.intent)
    _merge_table(evidence, data.evidence)
    _merge_table(floors, data.floor)
    new = {family.key for family in data.family}
    kept = tuple(f for f in knowledge.families if f.key not in new)
    # a team's own families are matched first: it knows its alerts better than the defaults
    families: tuple[Family, ...] = (*data.family, *kept) if team else (*kept, *data.family)
    return Knowledge(
        families=families,
        objects=objects,
        intents=intents,
        evidence=evidence,
        guard=_merged(knowledge.guard, data.guard),
        floors=floors,
        attention=_merged(knowledge.attention, data.attention),
    )


def _include(knowledge: Knowledge, path: str, text: str, *, team: bool) -> Knowledge:
    data = _read(path, text)
    # references are checked against what this file adds as well as what came before
    staged = _add(knowledge, data.model_copy(update={"family": ()}), team=team)
    _check(path, data, staged)
    return _add(knowledge, data, team=team)


def _empty() -> Knowledge:
    empty = KnowledgeFile()
    return Knowledge(
        families=(),
        objects={},
        intents={},
        evidence={},
        guard=empty.guard,
        floors={},
        attention=empty.attention,
    )


@cache
def builtin_knowledge() -> Knowledge:
    """The files shipped in core/knowledge: the vocabulary, then the families."""
    folder = resources.files("core") / "knowledge"
    names = sorted(
        (e.name for e in folder.iterdir() if e.name.endswith(".toml")),
        key=lambda name: (name != _VOCABULARY, name),
    )
    knowledge = _empty()
    for name in names:
        text = (folder / name).read_text(encoding="utf-8")
        knowledge = _include(knowledge, f"core/knowledge/{name}", text, team=False)
    return knowledge


def load_knowledge(files: Sequence[Path]) -> Knowledge:
    """The built-in knowledge extended by a team's files, in order."""
    knowledge = builtin_knowledge()
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"knowledge file {path}: cannot read: {exc.strerror}") from None
        knowledge = _include(knowledge, str(path), text, team=True)
    return knowledge


def knowledge_files(config: Mapping[str, Any], *, base: Path | None) -> list[Path]:
    """`[knowledge] files = [...]` of HOWL_CONFIG, relative paths taken from its folder."""
    table = config.get("knowledge", {})
    if not isinstance(table, dict):
        raise ConfigError("bad HOWL_CONFIG knowledge: expected a table")
    # anti_pattern_days is core.knowledge.settings' (how long an anti-pattern gates)
    unknown = sorted(set(table) - {"files", "anti_pattern_days"})
    if unknown:
        raise ConfigError(f"bad HOWL_CONFIG knowledge: unknown key(s) {', '.join(unknown)}")
    files = table.get("files", [])
    if not isinstance(files, list) or not all(isinstance(f, str) and f.strip() for f in files):
        raise ConfigError("bad HOWL_CONFIG knowledge.files: expected a list of file paths")
    folder = base.parent if base is not None else Path.cwd()
    return [p if (p := Path(f).expanduser()).is_absolute() else folder / p for f in files]


def knowledge_from_config(config: Mapping[str, Any], *, base: Path | None) -> Knowledge:
    """The knowledge HOWL_CONFIG asks for; ConfigError (one line) when a file is wrong."""
    return load_knowledge(knowledge_files(config, base=base))
