"""A real Prometheus on loopback, scraping a tiny exporter served from the test every second."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from tests.conftest import require_binary
from tests.servers.telegram import free_port

JOB = "exporter"
CONFIG = """\
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: {job}
    static_configs:
      - targets: ['{target}']
"""


@dataclass
class Exporter:
    """Serves `/metrics` in the text format: `howl_test_gauge{kind="…"}` at the set values."""

    values: dict[str, float] = field(default_factory=dict)
    address: str = ""

    def text(self) -> bytes:
        lines = ["# TYPE howl_test_gauge gauge"]
        lines += [f'howl_test_gauge{{kind="{k}"}} {v}' for k, v in sorted(self.values.items())]
        return ("\n".join(lines) + "\n").encode()


@contextlib.contextmanager
def serving_exporter(values: dict[str, float]) -> Iterator[Exporter]:
    exporter = Exporter(dict(values))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = exporter.text()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: a scrape a second would fill the test's output."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    exporter.address = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="exporter", daemon=True)
    thread.start()
    try:
        yield exporter
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Prometheus:
    url: str
    process: asyncio.subprocess.Process
    client: httpx.AsyncClient

    async def wait_for_samples(self, expr: str, *, timeout_s: float = 30.0) -> None:
        """Until an instant query of `expr` returns a series (the first scrapes have landed)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            answer = await self.client.get(f"{self.url}/api/v1/query", params={"query": expr})
            if answer.status_code == 200 and answer.json()["data"]["result"]:
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"Prometheus has no samples of {expr} after {timeout_s}s")

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


@contextlib.asynccontextmanager
async def running_prometheus(target: str) -> AsyncIterator[Prometheus]:
    """Prometheus scraping `target` (host:port) every second, on a free loopback port."""
    binary = require_binary("prometheus")
    root = Path(tempfile.mkdtemp(prefix="howl-prom-"))
    (root / "prometheus.yml").write_text(CONFIG.format(job=JOB, target=target))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (root / "log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            binary,
            f"--config.file={root / 'prometheus.yml'}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--storage.tsdb.path={root / 'data'}",
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            prometheus = Prometheus(url, process, client)
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{url}/-/ready")).status_code == 200:
                        break
                if process.returncode is not None or time.monotonic() > deadline:
                    raise AssertionError(f"prometheus did not start:\n{(root / 'log').read_text()}")
                await asyncio.sleep(0.1)
            yield prometheus
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
        shutil.rmtree(root, ignore_errors=True)
