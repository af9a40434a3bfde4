"""A real Prometheus Alertmanager on loopback, its webhook pointed at Howl."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import require_binary
from tests.servers.telegram import free_port

CONFIG = """\
route:
  receiver: howl
  group_by: ['alertname', 'namespace']
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: howl
    webhook_configs:
      - url: {url}
        send_resolved: true
{auth}
"""


@dataclass
class Alertmanager:
    url: str
    client: httpx.AsyncClient

    async def push(self, *alerts: dict[str, Any]) -> None:
        """POST /api/v2/alerts, as Prometheus does."""
        answer = await self.client.post(f"{self.url}/api/v2/alerts", json=list(alerts))
        answer.raise_for_status()


def alert(name: str, *, resolved: bool = False, **labels: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} on {labels.get('service', 'something')}"},
        "generatorURL": "http://127.0.0.1:9090/graph",
    }
    if resolved:
        body["endsAt"] = datetime.now(UTC).isoformat()
    return body


@contextlib.asynccontextmanager
async def running_alertmanager(webhook_url: str, *, token: str = "") -> AsyncIterator[Alertmanager]:
    binary = require_binary("prometheus-alertmanager", "alertmanager")
    root = Path(tempfile.mkdtemp(prefix="howl-am-"))
    auth = (
        "        http_config:\n          authorization:\n"
        f"            credentials: {json.dumps(token)}"
        if token
        else ""
    )
    (root / "am.yml").write_text(CONFIG.format(url=json.dumps(webhook_url), auth=auth))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (root / "log").open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            binary,
            f"--config.file={root / 'am.yml'}",
            f"--storage.path={root / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            f"--web.external-url={url}",
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            deadline = time.monotonic() + 20
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{url}/-/ready")).status_code == 200:
                        break
                if proc.returncode is not None or time.monotonic() > deadline:
                    log = (root / "log").read_text()
                    raise AssertionError(f"alertmanager did not start:\n{log}")
                await asyncio.sleep(0.1)
            yield Alertmanager(url, client)
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
        shutil.rmtree(root, ignore_errors=True)
