"""What the drift card's buttons do once an approver said yes: Roll back, Adopt, Ignore.

These are the operations only; the press that calls them (the approval, its
audit record) belongs to the approvals flow. Each takes a stored report and an
object's position in it, and returns a value saying what happened; none raises
for a failing command.

- `roll_back`: `kubectl apply -f <the desired file>` through the action executor
  (a registered action of its own, argv only, the file checked to lie in the tree);
- `adopt`: the live object written into the desired tree and committed on a new
  branch, in a separate git worktree so the operator's checkout is never touched;
- `ignore`: the object's differences stay out of reports until their values change.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.actions.executor import ActionResult, ActionStatus, Executor
from core.actions.registry import ActionRegistry, ActionSpec
from core.actions.runner import CommandRunner
from core.drift.config import DriftConfig, repository_root
from core.drift.manifests import object_key, parse_text
from core.drift.models import DriftObject, DriftReport
from core.drift.ports import DriftStore
from core.redact import Redactor

ROLLBACK_ACTION = "drift_rollback"
#: an absolute path, one argv element; that it lies in the desired tree is checked before
FILE_PATTERN = r"/[^\x00\r\n]{1,4000}"
GIT_TIMEOUT_S = 60.0
GIT_IDENTITY = ("-c", "user.name=Howl", "-c", "user.email=howl@localhost")


def rollback_registry(config: DriftConfig) -> ActionRegistry:
    """The one action Roll back may run: `kubectl apply -f {file}` (destructive)."""
    spec = ActionSpec(
        name=ROLLBACK_ACTION,
        description="Apply the desired manifest from Git (drift roll back)",
        command=[config.kubectl, "apply", "-f", "{file}"],
        params={"file": FILE_PATTERN},
        destructive=True,
        timeout_s=config.timeout_s,
    )
    return ActionRegistry([spec])


def rollback_executor(config: DriftConfig, runner: CommandRunner, redactor: Redactor) -> Executor:
    return Executor(rollback_registry(config), runner, redactor=redactor)


def drift_object(report: DriftReport, index: int) -> DriftObject:
    """The report's object at `index` (as the card numbers them from 0); LookupError if none."""
    if not 0 <= index < len(report.objects):
        raise LookupError(f"drift report {report.id} has no object #{index + 1}")
    return report.objects[index]


def desired_path(config: DriftConfig, obj: DriftObject) -> Path | None:
    """The absolute desired file of `obj`, inside the desired tree; None if it has none."""
    if obj.desired_file is None:
        return None
    base = config.desired.resolve()
    root = base.parent if base.is_file() else base
    path = (root / obj.desired_file).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


async def roll_back(
    report: DriftReport, index: int, *, config: DriftConfig, executor: Executor
) -> ActionResult:
    """Apply the object's desired file with `kubectl apply -f`; REFUSED for an extra object."""
    obj = drift_object(report, index)
    path = desired_path(config, obj)
    if path is None:
        return ActionResult(
            ROLLBACK_ACTION,
            ActionStatus.REFUSED,
            f"{obj.key.label()} has no desired file in Git to apply",
        )
    return await executor.execute(ROLLBACK_ACTION, {"file": str(path)})


@dataclass(frozen=True)
class AdoptResult:
    """What Adopt did: the branch and commit it made, or why it made none."""

    ok: bool
    reason: str = ""
    branch: str = ""
    commit: str = ""
    #: the file written, relative to the repository root
    file: str = ""


async def adopt(
    report: DriftReport,
    index: int,
    *,
    config: DriftConfig,
    runner: CommandRunner,
    approver: str,
) -> AdoptResult:
    """Write the live object into the desired tree; commit it on a new branch naming `approver`."""
    obj = drift_object(report, index)
    if obj.live is None:
        return AdoptResult(False, f"{obj.key.label()}: no live object to adopt")
    root = repository_root(config.desired)
    if root is None:
        return AdoptResult(
            False, f"[drift] desired: {config.desired} is not inside a git working tree"
        )
    relative = _target_file(config, root, obj)
    branch = branch_name(report, obj)
    scratch = Path(tempfile.mkdtemp(prefix="howl-adopt-"))
    tree = scratch / "tree"
    try:
        git = _Git(runner, root)
        if problem := await git("worktree", "add", "-b", branch, str(tree), "HEAD"):
            return AdoptResult(False, problem)
        try:
            target = tree / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(rewritten(target, obj), encoding="utf-8")
            in_tree = _Git(runner, tree)
            if problem := await in_tree("add", "--", relative):
                return AdoptResult(False, problem)
            message = commit_message(report, obj, approver)
            if problem := await in_tree(*GIT_IDENTITY, "commit", "-q", "-m", message):
                return AdoptResult(False, problem)
            sha = await in_tree.output("rev-parse", "HEAD")
        finally:
            await git("worktree", "remove", "--force", str(tree))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return AdoptResult(True, branch=branch, commit=sha, file=relative)


async def ignore(report: DriftReport, index: int, *, store: DriftStore, actor: str) -> int:
    """Keep the object's differences out of reports until they change; how many were marked."""
    obj = drift_object(report, index)
    await store.ignore({d.subject_key(): d.fingerprint() for d in obj.differences}, actor=actor)
    return len(obj.differences)


def branch_name(report: DriftReport, obj: DriftObject) -> str:
    """`howl/drift-adopt-deployment-api-1a2b3c4d`: a ref name unique per report and object."""
    slug = re.sub(r"[^a-z0-9-]+", "-", f"{obj.key.kind}-{obj.key.name}".lower()).strip("-")
    return f"howl/drift-adopt-{slug[:60]}-{report.id.hex[:8]}"


def commit_message(report: DriftReport, obj: DriftObject, approver: str) -> str:
    changes = "\n".join(f"- {d.path or d.change}" for d in obj.differences[:20])
    return (
        f"Adopt live {obj.key.label()} into Git\n\n"
        f"Approved by {approver} from Howl drift report {report.id}.\n"
        f"What the cluster had that Git did not:\n{changes}\n"
    )


def rewritten(path: Path, obj: DriftObject) -> str:
    """The file's new text: the live object in place of its document (or List item).

    Other documents of the file are kept (re-serialised: YAML comments are lost).
    """
    assert obj.live is not None
    if not path.exists() or obj.desired_file is None:
        return yaml.safe_dump(obj.live, sort_keys=False)
    text = path.read_text(encoding="utf-8")
    is_json = path.suffix.lower() == ".json"
    documents: list[Any] = parse_text(text, json_only=is_json)
    number, item = _position(documents, obj)
    if number is None:
        documents.append(obj.live)
    elif item is None:
        documents[number] = obj.live
    else:
        documents[number]["items"][item] = obj.live
    if is_json:
        body = documents[0] if len(documents) == 1 else documents
        return json.dumps(body, indent=2, sort_keys=False) + "\n"
    return yaml.safe_dump_all(documents, sort_keys=False)


def _position(documents: Sequence[Any], obj: DriftObject) -> tuple[int | None, int | None]:
    for number, document in enumerate(documents):
        if not isinstance(document, dict):
            continue
        if object_key(document) == obj.key:
            return number, None
        items = document.get("items")
        if str(document.get("kind", "")).endswith("List") and isinstance(items, list):
            for position, candidate in enumerate(items):
                if isinstance(candidate, dict) and object_key(candidate) == obj.key:
                    return number, position
    return None, None


def _target_file(config: DriftConfig, root: Path, obj: DriftObject) -> str:
    """Where the object goes, relative to the repository root: its file, or a new one."""
    base = config.desired.resolve()
    folder = base.parent if base.is_file() else base
    if obj.desired_file is not None:
        return str((folder / obj.desired_file).relative_to(root))
    where = obj.key.namespace or "cluster"
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{obj.key.kind.lower()}-{obj.key.name}")
    return str((folder / "adopted" / where / f"{name}.yaml").relative_to(root))


class _Git:
    """git in one folder, argv only; a failure is its one-line reason."""

    def __init__(self, runner: CommandRunner, folder: Path) -> None:
        self._runner = runner
        self._folder = folder

    async def __call__(self, *args: str) -> str | None:
        outcome = await self._runner.run(
            ["git", "-C", str(self._folder), *args], timeout_s=GIT_TIMEOUT_S
        )
        if outcome.error is not None:
            return f"git: {outcome.error}"
        if outcome.exit_code != 0:
            said = outcome.stderr.decode("utf-8", "replace").strip().splitlines()
            verb = next((a for a in args if not a.startswith("-") and "=" not in a), "")
            return f"git {verb}: " + (
                said[-1][:200] if said else f"exited with status {outcome.exit_code}"
            )
        return None

    async def output(self, *args: str) -> str:
        outcome = await self._runner.run(
            ["git", "-C", str(self._folder), *args], timeout_s=GIT_TIMEOUT_S
        )
        return outcome.stdout.decode("utf-8", "replace").strip()
