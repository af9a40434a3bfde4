"""Kubernetes objects from files and from `kubectl get -o json` output.

Files are YAML (several documents per file) or JSON; either may hold a `List`
(`kind: List` or `DeploymentList`…, with `items`), which is flattened. A file that
does not parse is one problem line naming it; documents that are not Kubernetes
objects (no apiVersion or kind: a values file, a comment-only document) are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.drift.models import ObjectKey

SUFFIXES = (".yaml", ".yml", ".json")
#: kinds with no namespace; every other kind without one lives in "default"
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "StorageClass",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PriorityClass",
        "IngressClass",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "APIService",
    }
)
#: kinds Howl never diffs: build files next to the manifests, not cluster objects
NOT_OBJECTS = frozenset({"Kustomization", "Component"})


@dataclass(frozen=True)
class Manifest:
    """One object and where it came from (a file relative to the source root, or "")."""

    key: ObjectKey
    body: dict[str, Any]
    file: str = ""
    #: which document of the file holds it (Adopt rewrites that one document)
    document: int = 0
    #: its position in that document's List `items`; None when the document is the object
    item: int | None = None


class _Loader(yaml.SafeLoader):
    """YAML as Kubernetes reads it: `2026-01-01` stays a string, never a date."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def object_key(body: dict[str, Any]) -> ObjectKey | None:
    """The identity of an object, or None when it is not a Kubernetes object.

    >>> object_key({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"}})
    ObjectKey(api_version='apps/v1', kind='Deployment', namespace='default', name='api')
    """
    api_version, kind = body.get("apiVersion"), body.get("kind")
    metadata = body.get("metadata")
    if not isinstance(api_version, str) or not isinstance(kind, str) or kind in NOT_OBJECTS:
        return None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        return None
    namespace = metadata.get("namespace")
    if not isinstance(namespace, str) or not namespace:
        namespace = "" if kind in CLUSTER_SCOPED else "default"
    return ObjectKey(api_version=api_version, kind=kind, namespace=namespace, name=metadata["name"])


def flatten(document: Any) -> Iterator[dict[str, Any]]:
    """The objects of one document: itself, or the items of a List (Lists nest)."""
    if not isinstance(document, dict):
        return
    kind = document.get("kind")
    items = document.get("items")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
        for item in items:
            yield from flatten(item)
        return
    yield document


def parse_text(text: str, *, json_only: bool = False) -> list[Any]:
    """The documents of a file's text: YAML (several documents) or JSON.

    JSON is YAML too, but read as JSON first: faster, and its errors say where.
    """
    stripped = text.lstrip()
    if json_only or stripped.startswith(("{", "[")):
        value = json.loads(text)
        return value if isinstance(value, list) else [value]
    return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]


def load_tree(root: Path) -> tuple[list[Manifest], list[str]]:
    """Every object under `root` (a folder, or one file), and a problem line per bad file."""
    files = [root] if root.is_file() else sorted(_manifest_files(root))
    base = root.parent if root.is_file() else root
    found: list[Manifest] = []
    problems: list[str] = []
    for path in files:
        relative = str(path.relative_to(base))
        try:
            documents = parse_text(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{relative}: cannot read: {exc}")
            continue
        except (yaml.YAMLError, json.JSONDecodeError) as exc:
            problems.append(f"{relative}: not valid YAML or JSON: {_first_line(exc)}")
            continue
        for number, document in enumerate(documents):
            found.extend(_objects_of(document, relative, number))
    return found, problems


def load_json_output(output: str) -> list[Manifest]:
    """Objects printed as `kubectl get -o json` does: one object or a List.

    ValueError with one line when the output is not a JSON object.
    """
    try:
        value = json.loads(output)
    except json.JSONDecodeError as exc:
        raise ValueError(f"live output is not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(value, dict):
        raise ValueError("live output is not a JSON object or List")
    return [Manifest(key, body) for body in flatten(value) if (key := object_key(body)) is not None]


def _objects_of(document: Any, file: str, number: int) -> Iterator[Manifest]:
    if not isinstance(document, dict):
        return
    items = document.get("items")
    if str(document.get("kind", "")).endswith("List") and isinstance(items, list):
        for position, item in enumerate(items):
            if isinstance(item, dict) and (key := object_key(item)) is not None:
                yield Manifest(key, item, file, number, position)
    elif (key := object_key(document)) is not None:
        yield Manifest(key, document, file, number)


def _manifest_files(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        parts = path.relative_to(root).parts
        if any(part.startswith(".") for part in parts):
            continue  # .git, editor files, hidden tooling
        if path.is_file() and path.suffix.lower() in SUFFIXES:
            yield path


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]
