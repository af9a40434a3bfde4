"""Building request-pack lines for the replay tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.replay.pack import SCHEMA_VERSION

TOOLS = [
    {"name": "rollback_deployment", "params": {"name": "^[a-z0-9-]+$", "namespace": "^[a-z-]+$"}}
]


def request_line(incident_id: str = "inc-1", **changes: Any) -> dict[str, Any]:
    """A valid pack line; keyword arguments replace (or, with None, remove) fields."""
    line: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": "run-1",
        "incident_id": incident_id,
        "candidate_id": f"{incident_id}-baseline",
        "system_prompt": "You coordinate an on-call debate. Answer JSON.",
        "user_prompt": f'Incident {incident_id}: {{"alert_name": "KubePodCrashLooping"}}',
        "incident_context": {
            "alert_name": "KubePodCrashLooping",
            "labels": {"namespace": "shop", "pod": "api-7d9f8b6c4-x2x9z"},
            "annotations": {"description": "crash looping since the rollout of v2"},
            "severity": "critical",
            "tools": TOOLS,
        },
        "source_metadata": {"source": "alertmanager", "sanitized": True},
        "response_contract": "coordinate",
        "metadata": {
            "request_only": True,
            "not_replacement_evidence": True,
            "candidate_variant_id": "baseline",
        },
    }
    for key, value in changes.items():
        if value is None:
            line.pop(key, None)
        else:
            line[key] = value
    return line


def write_pack(path: Path, lines: list[dict[str, Any] | str]) -> Path:
    text = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)
    path.write_text(text, encoding="utf-8")
    return path
