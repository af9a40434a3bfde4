"""One scan: desired tree and live objects read, diffed, levelled, read for intent, stored.

Guarantee: `Scanner.scan` never raises for anything the world can do (a path
gone, a binary missing, a command failing or printing something that is not
JSON, a file that does not parse): each becomes one line in `report.problems`,
and a scan whose live side could not be read reports no drift rather than
every object "missing". `Scanner.scheduled` returns a report only when it holds
drift not announced before; an ignored drift stays out of every report until
its values change.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import structlog

from core.actions.runner import CommandRunner
from core.drift.analyse import level_of, summary
from core.drift.config import DriftConfig, source_problems
from core.drift.detect import diff_bodies, match, normalise
from core.drift.interpret import Interpreter
from core.drift.manifests import Manifest, load_json_output, load_tree
from core.drift.models import Difference, DriftObject, DriftReport, Reading
from core.drift.ports import DriftStore
from core.ports import Clock
from core.redact import Redactor

log = structlog.get_logger(__name__)

#: objects whose intent is read per scan (one model call each); the rest show without one
READ_AT_MOST = 5
#: fields whose values are never shown, stored or sent to a model: only a digest of them
HIDDEN_KINDS = frozenset({"Secret"})


class Scanner:
    """Scans `[drift]` on demand and on a schedule (see the module docstring)."""

    def __init__(
        self,
        config: DriftConfig | None,
        *,
        runner: CommandRunner,
        interpreter: Interpreter,
        store: DriftStore,
        clock: Clock,
        redactor: Redactor | None = None,
    ) -> None:
        self.config = config
        self._runner = runner
        self._interpreter = interpreter
        self.store = store
        self._clock = clock
        self._redactor = redactor or Redactor([])

    async def scan(self) -> DriftReport:
        """Scan now; the report is stored (so its buttons can find it) and returned."""
        try:
            report = await self._scan()
        except Exception as exc:  # a bug or an OS surprise: a report line, never a crash
            log.exception("drift_scan_failed")
            report = _failed(
                self._clock.now(), [f"drift scan failed: {type(exc).__name__}: {exc}"[:300]]
            )
        await self.store.save_report(report)
        log.info(
            "drift_scanned",
            report=str(report.id),
            objects=len(report.objects),
            problems=len(report.problems),
        )
        return report

    async def scheduled(self) -> DriftReport | None:
        """A scheduled scan: the report when it holds drift not announced yet, else None.

        Problems alone are logged, not posted every round (the start-up check said so).
        """
        report, new = await self.scan_announcing()
        if report.problems and not report.objects:
            log.warning("drift_scan_problems", problems=list(report.problems))
        return report if new else None

    async def scan_announcing(self) -> tuple[DriftReport, bool]:
        """Scan, and record its drift as announced: (report, whether any of it is new).

        What went away is forgotten, so its return is announced again. A scan whose
        sources failed announces nothing and forgets nothing (the drift is still there).
        """
        report = await self.scan()
        if report.problems and not report.objects:
            return report, False
        now = frozenset(d.fingerprint() for d in report.differences)
        before = await self.store.announced()
        await self.store.set_announced(now)
        return report, bool(now - before)

    async def _scan(self) -> DriftReport:
        started = self._clock.now()
        config = self.config
        if config is None:
            return DriftReport(
                scanned_at=started,
                problems=("HOWL_CONFIG has no [drift] table: nothing to scan",),
                summary="Drift scanning is not configured.",
            )
        problems = source_problems(config)
        if problems:
            return _failed(started, problems)
        # file reading is blocking: off the event loop, which serves the chat meanwhile
        desired, desired_problems = await asyncio.to_thread(load_tree, config.desired)
        problems.extend(f"[drift] desired {line}" for line in desired_problems)
        live, live_problems = await self._live(config)
        problems.extend(live_problems)
        if live is None:
            return _failed(started, problems, desired_count=len(desired))
        objects, ignored_count = await self._objects(config, desired, live)
        read = sorted(objects, key=lambda o: -o.level.rank)[:READ_AT_MOST]
        readings = {o.key: await self._read(o) for o in read}
        objects = [o.model_copy(update={"reading": readings.get(o.key)}) for o in objects]
        line = summary(objects, problems=len(problems))
        if ignored_count:
            line += f" {ignored_count} ignored difference(s) not shown."
        return DriftReport(
            scanned_at=started,
            objects=tuple(objects),
            problems=tuple(problems),
            summary=line,
            desired_count=len(desired),
            live_count=len(live),
        )

    async def _live(self, config: DriftConfig) -> tuple[list[Manifest] | None, list[str]]:
        if config.live is not None:
            found, problems = await asyncio.to_thread(load_tree, config.live)
            return found, [f"[drift] live {line}" for line in problems]
        assert config.live_command is not None
        outcome = await self._runner.run(config.live_command, timeout_s=config.timeout_s)
        name = Path(config.live_command[0]).name
        if outcome.error is not None:
            return None, [f"[drift] live_command: {outcome.error}"]
        if outcome.timed_out:
            return None, [f"[drift] live_command: {name} killed after {config.timeout_s:g}s"]
        if outcome.exit_code != 0:
            said = outcome.stderr.decode("utf-8", "replace").strip().splitlines()
            why = f": {self._redactor.redact(said[-1])[:200]}" if said else ""
            return None, [
                f"[drift] live_command: {name} exited with status {outcome.exit_code}{why}"
            ]
        try:
            return load_json_output(outcome.stdout.decode("utf-8", "replace")), []
        except ValueError as exc:
            return None, [f"[drift] live_command: {exc}"]

    async def _objects(
        self, config: DriftConfig, desired: Sequence[Manifest], live: Sequence[Manifest]
    ) -> tuple[list[DriftObject], int]:
        ignored = await self.store.ignored()
        pairs, missing, extra = match(desired, live)
        objects: list[DriftObject] = []
        dropped = 0
        for wanted, running in pairs:
            clean_live = normalise(running.body)
            found = [
                _difference(wanted, "changed", path, a, b)
                for path, a, b in diff_bodies(
                    normalise(wanted.body), clean_live, ignore=config.ignore
                )
            ]
            kept = [d for d in found if ignored.get(d.subject_key()) != d.fingerprint()]
            dropped += len(found) - len(kept)
            if kept:
                objects.append(_object(wanted.key, kept, wanted.file, clean_live))
        for wanted in missing:
            d = _difference(wanted, "missing", "", _present(normalise(wanted.body)), None)
            if ignored.get(d.subject_key()) == d.fingerprint():
                dropped += 1
            else:
                objects.append(_object(wanted.key, [d], wanted.file, None))
        for running in extra:
            clean_live = normalise(running.body)
            d = _difference(running, "extra", "", None, _present(clean_live))
            if ignored.get(d.subject_key()) == d.fingerprint():
                dropped += 1
            else:
                objects.append(_object(running.key, [d], None, clean_live))
        return objects, dropped

    async def _read(self, obj: DriftObject) -> Reading:
        top = max(obj.differences, key=lambda d: d.level.rank)
        return await self._interpreter.read(obj.key, top)


def _difference(manifest: Manifest, change: Any, path: str, desired: Any, live: Any) -> Difference:
    key = manifest.key
    if key.kind in HIDDEN_KINDS and path.startswith(("data", "stringData")):
        desired, live = _digest(desired), _digest(live)
    return Difference(
        key=key,
        change=change,
        path=path,
        desired=desired,
        live=live,
        level=level_of(key, change, path),
    )


def _object(
    key: Any, differences: list[Difference], file: str | None, live: Mapping[str, Any] | None
) -> DriftObject:
    if live is not None and key.kind in HIDDEN_KINDS:
        live = None  # a Secret's live values are never stored; Adopt is not offered for it
    return DriftObject(
        key=key,
        differences=tuple(differences),
        desired_file=file,
        live=dict(live) if live is not None else None,
    )


def _digest(value: Any) -> Any:
    if value is None:
        return None
    body = json.dumps(value, sort_keys=True, default=str).encode()
    return f"(hidden, sha256:{hashlib.sha256(body).hexdigest()[:12]})"


def _present(body: Mapping[str, Any]) -> str:
    """A whole object as a value: its digest, so Ignore holds only until the object changes."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return f"present (sha256:{digest[:12]})"


def _failed(started: Any, problems: list[str], *, desired_count: int = 0) -> DriftReport:
    return DriftReport(
        scanned_at=started,
        problems=tuple(problems),
        summary=summary([], problems=len(problems)),
        desired_count=desired_count,
    )
