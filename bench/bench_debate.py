"""The debate pipeline's time, through the real `howl run` and in-process (issue 10).

In one run, against a fake OpenAI-compatible model that answers every role
validly after a fixed latency L (and limits nothing itself):
- alert to decision card: POST /alerts until the decision card is in the
  emulated on-call group, over the critical path 4·L (diagnose, solve,
  review ‖ critique, coordinate); alerts one after another, each once the
  card publisher may flush at once, median and worst, each split into its
  parts (before the first model call, the model's 4·L and its gaps, after the
  last answer) so a fixed cost shows where it is; then one alert right after
  the publisher flushed, where the decision card waits for the incident card
  it replies to (the publisher's pacing, not the debate);
- a storm: 50 new incidents in one post, the provider at concurrency 8:
  throughput as a ratio of the ideal, which is every call's L packed into 8
  slots (50 · 5 · L / 8), and the concurrency the fake model saw; the storm
  ends at the last run's last move as Howl recorded it (see `storm`);
- the embedded engine alone (the default install, no model): a full debate's
  latency in-process over an in-memory turn log, p50 and p99.

Targets: median card <= 1.10 × 4·L; storm >= 0.9 of ideal; embedded p99 < 50 ms.
A missed target is a figure, not a failure: only a broken run raises.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.debate_world import (
    ACTIONS,
    CONCURRENCY,
    LATENCY_S,
    Model,
    alert,
    provider_config,
    storm_webhook,
)
from bench.embedded_debate import embedded_debates
from bench.howl_proc import howl_process
from bench.schedule import schedule_bound
from bench.table import Row
from bot.debates import WORKERS
from bot.playground.botapi import BotApiEmulator
from bot.playground.server import create_emulator_app
from core.alerting.publisher import EVERY_S, SETTLE_S
from tests.servers.telegram import serve_asgi

TOKEN = "424310:debate-bench-token-local-only-000000"
CHAT = -1004310
#: the debate's critical path: diagnose, solve, review ‖ critique, coordinate
CRITICAL_PATH_S = 4 * LATENCY_S
CARD_SAMPLES = 5
STORM = 50
CALLS_PER_DEBATE = 5
EMBEDDED_DEBATES = 200
#: how long to wait for one card, or for the storm, before calling the run broken
PATIENCE_S = 120.0
DECISION = "⚖️ Decision"
#: the incident card's progress line once its decision card is out
FINAL_LINE = "decision posted"


@dataclass(frozen=True)
class CardSample:
    """One alert's way to its decision card, in seconds from the post."""

    total_s: float
    first_call_s: float
    last_answer_s: float
    incident_card_s: float

    @property
    def model_s(self) -> float:
        """From the first model call to the last answer: 4·L plus Howl's gaps between calls."""
        return self.last_answer_s - self.first_call_s

    @property
    def after_s(self) -> float:
        """From the last answer to the card in the chat: store, announce, deliver."""
        return self.total_s - self.last_answer_s


def decision_postings(emulator: BotApiEmulator) -> list[float]:
    return [
        p.at
        for p in emulator.postings
        if p.chat_id == CHAT and p.method == "sendMessage" and p.text.startswith(DECISION)
    ]


def posted_at(emulator: BotApiEmulator, name: str) -> float | None:
    """When the incident card naming `name` was first sent."""
    for p in emulator.postings:
        if p.method == "sendMessage" and name in p.text and not p.text.startswith(DECISION):
            return p.at
    return None


async def until(emulator: BotApiEmulator, done: Callable[[], bool], what: str) -> None:
    """Wake on every change in the emulated chat until `done()` holds."""
    deadline = time.monotonic() + PATIENCE_S
    version = emulator.version
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {what} within {PATIENCE_S:g} s")
        version = await emulator.wait_changed(version, 0.5)


def final_edit_at(emulator: BotApiEmulator, name: str) -> float | None:
    """When the incident card naming `name` first said its decision was posted: its last
    edit (or its first send, when the debate was over before the card settled)."""
    for p in emulator.postings:
        if name in p.text and FINAL_LINE in p.text and not p.text.startswith(DECISION):
            return p.at
    return None


async def after_last_edit(emulator: BotApiEmulator, name: str, *, pause_s: float) -> None:
    """Until the incident card's last edit is in the chat, and `pause_s` beyond it."""
    await until(emulator, lambda: final_edit_at(emulator, name) is not None, "last card edit")
    edited = final_edit_at(emulator, name)
    assert edited is not None
    await asyncio.sleep(max(0.0, edited + pause_s - time.monotonic()))


def sample_name(index: int) -> str:
    return f"DebateBench{index}"


async def card_sample(
    http: httpx.AsyncClient, emulator: BotApiEmulator, model: Model, index: int
) -> CardSample:
    name = sample_name(index)
    cards_before = len(decision_postings(emulator))
    asked_before = len(model.asked)
    started = time.monotonic()
    answer = await http.post("/alerts", json=alert(name))
    answer.raise_for_status()
    await until(emulator, lambda: len(decision_postings(emulator)) > cards_before, "decision card")
    card_at = decision_postings(emulator)[cards_before]
    asked = model.asked[asked_before:]
    if len(asked) != CALLS_PER_DEBATE:
        raise RuntimeError(f"expected {CALLS_PER_DEBATE} model calls, saw {len(asked)}")
    incident_at = posted_at(emulator, name)
    return CardSample(
        total_s=card_at - started,
        first_call_s=asked[0][0] - started,
        last_answer_s=asked[-1][0] + model.latency_s - started,
        incident_card_s=(incident_at - started) if incident_at is not None else math.inf,
    )


@dataclass(frozen=True)
class Cards:
    """Alerts one after another: with the card publisher idle, and right after it flushed."""

    quiet: list[CardSample]
    busy: CardSample


async def card_samples(
    http: httpx.AsyncClient, emulator: BotApiEmulator, model: Model, quiet: int
) -> Cards:
    """`quiet` alerts, each once the publisher may flush at once, then one right after a flush.

    A new incident's card waits SETTLE_S (0.3 s) for changes to join it, and at most one
    flush starts per EVERY_S (1 s, core/alerting/publisher.py); the decision card replies
    to that card, so it cannot go before it. The previous incident's last edit was such a
    flush: EVERY_S after it the next card waits SETTLE_S only; right after it, about EVERY_S.
    """
    samples = []
    for index in range(quiet + 1):
        sample = await card_sample(http, emulator, model, index)
        samples.append(sample)
        print(
            f"  card {index}{'' if index < quiet else ' (right after a flush)'}: "
            f"{sample.total_s:.3f} s = first call {sample.first_call_s:.3f} + model "
            f"{sample.model_s:.3f} + after {sample.after_s:.3f} "
            f"(incident card at {sample.incident_card_s:.3f})",
            file=sys.stderr,
            flush=True,
        )
        pause = EVERY_S if index < quiet - 1 else 0.0
        if index < quiet:
            await after_last_edit(emulator, sample_name(index), pause_s=pause)
    return Cards(quiet=samples[:quiet], busy=samples[quiet])


@dataclass(frozen=True)
class Storm:
    """A storm's figures: `size` incidents posted at once until each has its package."""

    size: int
    elapsed_s: float
    max_concurrent: int
    statuses: dict[str, int]
    latency_s: float = LATENCY_S

    @property
    def decided(self) -> int:
        return sum(self.statuses.values())

    @property
    def ideal_s(self) -> float:
        """Every call's latency packed into the provider's slots: 50 · 5 · L / 8."""
        return self.size * CALLS_PER_DEBATE * self.latency_s / CONCURRENCY

    @property
    def ratio(self) -> float:
        """Throughput as a share of the ideal's."""
        return self.ideal_s / self.elapsed_s

    @property
    def workers_bound(self) -> float:
        """The best share `WORKERS` workers can reach with Howl costing nothing."""
        best = schedule_bound(self.size, workers=WORKERS, slots=CONCURRENCY, latency=self.latency_s)
        return self.ideal_s / best


async def storm(http: httpx.AsyncClient, model: Model, size: int) -> Storm:
    """`size` incidents in one post; seconds until every one has its decision package.

    The storm ends at the last run's last move as Howl recorded it (`updated_at`: its
    package stored and announced, the run waiting for approval or completed), not when
    the bench's polling happened to see it: one pass over 50 incidents takes a few
    hundred milliseconds of Howl's own CPU. The polling still has to find every package
    and see its run move on, and that move must fall between the post and the look.
    """
    model.fake.max_concurrent = 0
    coordinated = model.count("Coordinator")
    started_wall = datetime.now(UTC)
    started = time.monotonic()
    answer = await http.post("/alerts/alertmanager", json=storm_webhook(size))
    answer.raise_for_status()
    incidents = set(answer.json()["incidents"])
    if len(incidents) != size:
        raise RuntimeError(f"expected {size} incidents, intake made {len(incidents)}")
    # the fake model (this process) says when every Coordinator was asked, so polling the
    # API takes none of Howl's CPU while the debates run
    await model.wait_asked("Coordinator", coordinated + size, timeout_s=PATIENCE_S)
    await asyncio.sleep(model.latency_s)  # the last answer is on its way
    deadline = started + PATIENCE_S
    packages: dict[int, dict[str, object]] = {}
    while pending := sorted(incidents - set(packages)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} storm incidents have no decision package")
        for incident_id in pending:
            got = (await http.get(f"/api/incidents/{incident_id}")).json()
            if got["decision"] is not None:
                packages[incident_id] = got["decision"]
        if len(packages) < size:
            # the end is Howl's record: polling harder would only take its CPU
            await asyncio.sleep(0.25)
    seen_s = time.monotonic() - started
    last_moves = []
    for package in packages.values():
        # a package is stored before it is announced and its run moves on: wait for that
        while (run := (await http.get(f"/api/runs/{package['run_id']}")).json())[
            "state"
        ] == "running":
            if time.monotonic() > deadline:
                raise RuntimeError(f"run {package['run_id']} is still running")
            await asyncio.sleep(0.05)
        last_moves.append(datetime.fromisoformat(run["updated_at"]))
    last_move, seen_wall = max(last_moves), datetime.now(UTC)
    if not started_wall <= last_move <= seen_wall:
        raise RuntimeError(f"a run's last move {last_move} is outside the storm's window")
    elapsed = (last_move - started_wall).total_seconds()
    print(f"  storm: polling saw the last package {seen_s:.2f} s in", file=sys.stderr)
    statuses: dict[str, int] = {}
    for package in packages.values():
        statuses[str(package["status"])] = statuses.get(str(package["status"]), 0) + 1
    return Storm(
        size=size,
        elapsed_s=elapsed,
        max_concurrent=model.fake.max_concurrent,
        statuses=statuses,
        latency_s=model.latency_s,
    )


@asynccontextmanager
async def emulated_telegram() -> AsyncIterator[tuple[BotApiEmulator, str]]:
    emulator = BotApiEmulator(token=TOKEN, enforce_limits=True)
    emulator.add_chat(CHAT, title="On-call")
    async with serve_asgi(create_emulator_app(emulator)) as base:
        yield emulator, base
        await emulator.close()  # wakes any long poll left open, before the server stops


async def through_howl(
    workdir: Path, model: Model, *, samples: int = CARD_SAMPLES, storm_size: int = STORM
) -> tuple[Cards, Storm]:
    """`samples` quiet cards and one right after a flush, then the storm, in one `howl run`."""
    async with (
        serve_asgi(model.fake.app()) as model_url,
        emulated_telegram() as (emulator, tg),
    ):
        config = workdir / "howl.toml"
        config.write_text(ACTIONS + provider_config(f"{model_url}/v1"))
        settings = {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": f"{tg}/bot",
            "HOWL_ALERT_CHAT_ID": str(CHAT),
            "HOWL_CONFIG": str(config),
        }
        async with (
            howl_process(workdir, **settings) as howl,
            httpx.AsyncClient(base_url=howl.url, timeout=30) as http,
        ):
            cards = await card_samples(http, emulator, model, samples)
            crowd = await storm(http, model, storm_size)
            print(
                f"  storm: {crowd.elapsed_s:.2f} s for {storm_size} (ideal {crowd.ideal_s:.2f} s), "
                f"max concurrent {crowd.max_concurrent}, {crowd.statuses}",
                file=sys.stderr,
                flush=True,
            )
    return cards, crowd


def quantile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def rows_of(cards: Cards, crowd: Storm, embedded: list[float]) -> list[Row]:
    bench = "debate"
    samples, busy = cards.quiet, cards.busy
    totals = [s.total_s for s in samples]
    median, worst = statistics.median(totals), max(totals)
    path = CRITICAL_PATH_S
    first = statistics.median(s.first_call_s for s in samples)
    gaps = statistics.median(s.model_s - path for s in samples)
    after = statistics.median(s.after_s for s in samples)
    incident = statistics.median(s.incident_card_s for s in samples)
    p50, p99 = quantile(embedded, 50), quantile(embedded, 99)
    ms, n = 1000, crowd.size
    return [
        Row(bench, f"alert to decision card, median of {len(samples)} (L = {LATENCY_S:g} s)",
            median, "s", path, "4·L", "<= 1.10 x 4·L", median / path <= 1.10),
        Row(bench, "  worst of them", worst, "s", path, "4·L"),
        Row(bench, "  post to the first model call (median)", first * ms, "ms"),
        Row(bench, "  between the model calls, beyond 4·L (median)", gaps * ms, "ms"),
        Row(bench, "  last answer to the card in the chat (median)", after * ms, "ms"),
        Row(bench, f"  its incident card, replied to (median; publisher settles {SETTLE_S:g} s)",
            incident, "s"),
        Row(bench, "alert to decision card right after the publisher flushed", busy.total_s,
            "s", path, "4·L"),
        Row(bench, f"  its incident card (at most one flush per {EVERY_S:g} s)",
            busy.incident_card_s, "s"),
        Row(bench, f"{n} incidents at once, concurrency {CONCURRENCY}: all decided",
            crowd.elapsed_s, "s", crowd.ideal_s, f"ideal {n}·5·L/{CONCURRENCY}"),
        Row(bench, "  throughput against the ideal", crowd.ratio, "x", target=">= 0.9",
            met=crowd.ratio >= 0.9),
        Row(bench, f"  the most {WORKERS} workers allow (Howl costing nothing)",
            crowd.workers_bound, "x"),
        Row(bench, f"  fake model's most calls at once (provider limit {CONCURRENCY})",
            crowd.max_concurrent, "", target=f"== {CONCURRENCY}",
            met=crowd.max_concurrent == CONCURRENCY),
        Row(bench, f"embedded engine, full debate p50 ({len(embedded)} debates)", p50, "ms"),
        Row(bench, "embedded engine, full debate p99", p99, "ms", target="< 50 ms",
            met=p99 < 50),
    ]  # fmt: skip


async def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        cards, crowd = await through_howl(Path(tmp), Model())
    if crowd.decided != crowd.size:
        raise RuntimeError(f"only {crowd.decided} of {crowd.size} storm incidents were decided")
    embedded, statuses = await embedded_debates(EMBEDDED_DEBATES)
    print(f"  embedded: {statuses}", file=sys.stderr, flush=True)
    return rows_of(cards, crowd, embedded)
