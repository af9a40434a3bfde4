"""Prometheus metrics, in a registry owned by the process (no module-level state)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Info, generate_latest

from core import __version__
from core.llm.router import ProviderStats


class Metrics:
    """Every metric Howl exports; one instance per process, built by the composition root."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        Info("howl_build", "Howl version", registry=self.registry).info({"version": __version__})
        self.updates = Counter(
            "howl_telegram_updates_total",
            "Telegram updates received, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "howl_deliveries_total",
            "Outbox deliveries to Telegram, by kind and result",
            ["kind", "result"],
            registry=self.registry,
        )
        self.outbox = Gauge(
            "howl_outbox_items", "Outbox items by status", ["status"], registry=self.registry
        )
        self.intake_requests = Counter(
            "howl_intake_requests_total",
            "Alert intake requests, by source and HTTP status",
            ["source", "status"],
            registry=self.registry,
        )
        self.intake_alerts = Counter(
            "howl_intake_alerts_total",
            "Alerts accepted at intake, by source; `new` excludes repeats",
            ["source", "kind"],
            registry=self.registry,
        )
        self.incidents = Gauge(
            "howl_incidents", "Incidents by status", ["status"], registry=self.registry
        )
        self.llm_calls = Gauge(
            "howl_llm_calls",
            "Model calls since start, by provider and outcome (ok, failure, skipped)",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.llm_tokens = Gauge(
            "howl_llm_tokens",
            "Tokens since start, by provider and kind (prompt, completion)",
            ["provider", "kind"],
            registry=self.registry,
        )
        self.llm_cost = Gauge(
            "howl_llm_cost_usd",
            "Spend in USD, by provider, since start and today (UTC)",
            ["provider", "period"],
            registry=self.registry,
        )
        self.llm_breaker_open = Gauge(
            "howl_llm_breaker_open",
            "1 while a provider's circuit breaker keeps it out of its routes",
            ["provider"],
            registry=self.registry,
        )
        self.uptime = Gauge("howl_uptime_seconds", "Seconds since start", registry=self.registry)
        self.database_bytes = Gauge(
            "howl_database_bytes",
            "Bytes the database takes (SQLite file, PostgreSQL pg_database_size)",
            registry=self.registry,
        )

    def delivered(self, kind: str, result: str) -> None:
        self.deliveries.labels(kind=kind, result=result).inc()

    def intake(self, source: str, status: str, *, alerts: int = 0, new: int = 0) -> None:
        self.intake_requests.labels(source=source, status=status).inc()
        if alerts:
            self.intake_alerts.labels(source=source, kind="accepted").inc(alerts)
            self.intake_alerts.labels(source=source, kind="new").inc(new)

    def observe_incidents(self, counts: Mapping[str, int]) -> None:
        for status, count in counts.items():
            self.incidents.labels(status=status).set(count)

    def observe_llm(self, stats: Mapping[str, ProviderStats]) -> None:
        for name, provider in stats.items():
            calls = {"ok": provider.ok, "failure": provider.failures, "skipped": provider.skipped}
            for outcome, count in calls.items():
                self.llm_calls.labels(provider=name, outcome=outcome).set(count)
            self.llm_tokens.labels(provider=name, kind="prompt").set(provider.prompt_tokens)
            self.llm_tokens.labels(provider=name, kind="completion").set(provider.completion_tokens)
            self.llm_cost.labels(provider=name, period="total").set(provider.cost_usd)
            self.llm_cost.labels(provider=name, period="today").set(provider.spent_today_usd)
            self.llm_breaker_open.labels(provider=name).set(int(provider.breaker == "open"))

    def update_seen(self, outcome: str) -> None:
        self.updates.labels(outcome=outcome).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
