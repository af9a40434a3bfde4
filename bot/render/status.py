"""/start, /help and /status as HTML."""

from __future__ import annotations

from collections.abc import Collection

from bot.handlers.catalog import CATALOG
from bot.render.html import bold, code, esc
from core.messages import Rendered
from core.status import StatusReport


def render_start(*, mode: str) -> Rendered:
    lines = [
        "🐺 <b>Howl</b> — ChatOps for on-call teams.",
        "",
        "Alerts from Alertmanager, Grafana or /alert become incidents with one card each here.",
        "Agents debate a diagnosis and propose an action; an approver decides with one press.",
        "",
        "Try /status, /help or /alert &lt;text&gt;.",
    ]
    if mode == "playground":
        lines.append("<i>Playground mode: no Telegram token, everything runs locally.</i>")
    return Rendered(text="\n".join(lines))


def render_help(built: Collection[str]) -> Rendered:
    """Every contract command; those not built yet are marked so."""
    lines = ["<b>Commands</b>"]
    for command in CATALOG:
        usage = f"/{command.name}" + (f" {esc(command.args)}" if command.args else "")
        soon = "" if command.name in built else " <i>(coming soon)</i>"
        lines.append(f"{usage} — {esc(command.description)}{soon}")
    return Rendered(text="\n".join(lines))


def format_duration(seconds: float) -> str:
    """Compact uptime.

    >>> format_duration(93784)
    '1d 2h 3m'
    >>> format_duration(42)
    '42s'
    """
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days or hours or minutes:
        parts = [(days, "d"), (hours, "h"), (minutes, "m")]
        return " ".join(f"{n}{unit}" for n, unit in parts if n)
    return f"{secs}s"


def render_status(report: StatusReport) -> Rendered:
    db_state = "ok" if report.database_ok else "NOT ANSWERING"
    flags = [report.mode]
    if report.shadow:
        flags.append("shadow (posts and executes nothing)")
    lines = [
        f"🐺 <b>Howl</b> {esc(report.version)}",
        f"Uptime: {format_duration(report.uptime_s)}",
        f"Mode: {esc(', '.join(flags))}",
        f"Autopilot: {esc(report.autopilot)}",
        f"Model: {esc(report.llm)}",
        f"Database: {code(report.database)} — {db_state}, "
        f"schema {esc(report.schema_revision or '?')}",
    ]
    if report.counts:
        lines.append("")
        lines.extend(f"{esc(name)}: {bold(value)}" for name, value in report.counts.items())
    return Rendered(text="\n".join(lines))
