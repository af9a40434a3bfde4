"""/start, /help and /status as HTML."""

from __future__ import annotations

from collections.abc import Collection

from bot.handlers.catalog import CATALOG, CommandInfo
from bot.render.html import bold, code, esc
from core.messages import Rendered
from core.status import StatusReport


def render_start(*, mode: str) -> Rendered:
    """What Howl does today, and where to begin."""
    lines = [
        "🐺 <b>Howl</b> — ChatOps for on-call teams.",
        "",
        "Alerts from Alertmanager, Grafana or /alert become incidents, each with one card in "
        "the on-call group, kept up to date as the incident changes.",
        "Act on them with the card's buttons or /ack, /silence and /resolve; "
        "/incidents lists what is open.",
        "Each new incident is debated: a diagnosis, an action from your registry if one fits, "
        "its risk and why a person must look, posted as a reply to its card; "
        "/debate asks again.",
        "",
        "/help lists every command; /status shows how Howl is doing.",
    ]
    if mode == "playground":
        lines.append("<i>Playground mode: no Telegram token, everything runs locally.</i>")
    return Rendered(text="\n".join(lines))


def render_help(built: Collection[str]) -> Rendered:
    """The commands this build answers, nothing announced before it works."""
    lines = ["<b>Commands</b>"]
    lines.extend(
        f"{_usage(command)} — {esc(command.description)}"
        for command in CATALOG
        if command.name in built
    )
    return Rendered(text="\n".join(lines))


def render_unknown_command(name: str) -> Rendered:
    """One line for a command this build does not have."""
    shown = name if len(name) <= 32 else name[:32] + "…"
    return Rendered(text=f"I don't know /{esc(shown)}. /help lists the commands I answer.")


def render_capabilities(built: Collection[str], *, open_incidents: int) -> Rendered:
    """The answer to a message that is not a command: what the bot does today."""
    names = [f"/{c.name}" for c in CATALOG if c.name in built and c.name not in {"start", "help"}]
    now = (
        "No open incidents right now."
        if open_incidents == 0
        else f"Open incidents right now: {bold(open_incidents)} — /incidents lists them."
    )
    lines = [
        "🐺 I post a card for every incident in the on-call group and keep it up to date.",
        now,
        f"Commands: {', '.join(names)}. /help explains each.",
        "<i>Ask me about the incidents in plain words, or ask me to act: "
        "an approver confirms every action.</i>",
    ]
    return Rendered(text="\n".join(lines))


def _usage(command: CommandInfo) -> str:
    return f"/{command.name}" + (f" {esc(command.args)}" if command.args else "")


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
        flags.append("shadow (incident cards are not posted)")
    lines = [
        f"🐺 <b>Howl</b> {esc(report.version)}",
        f"Uptime: {format_duration(report.uptime_s)}",
        f"Mode: {esc(', '.join(flags))}",
        f"Model: {esc(report.llm)}",
        f"Database: {code(report.database)} — {db_state}, "
        f"schema {esc(report.schema_revision or '?')}",
    ]
    if report.counts:
        lines.append("")
        lines.extend(f"{esc(name)}: {bold(value)}" for name, value in report.counts.items())
    return Rendered(text="\n".join(lines))
