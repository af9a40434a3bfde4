"""The bot's answers to what a person writes to it: escaped HTML, within one message.

Every string that came from the person or a model is escaped; a proposed
call's arguments are shown as `literal`s, exactly as they would run.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.render.html import MAX_MESSAGE_CHARS, code, esc, fit_lines, literal, truncate
from core.chat.service import Answered, ChatReply, Proposed, Refused
from core.llm.types import ToolCall, ToolSpec
from core.messages import Rendered

#: tools named in an "I can't do that" (the rest are counted)
MAX_TOOLS = 8
HINT = (
    "<i>Ask me about the incidents, or ask me to act (“restart the api in prod”): "
    "an approver confirms every action. /help lists the commands.</i>"
)


def call_html(call: ToolCall, *, limit: int = 80) -> str:
    """`tool(name=api, namespace=prod)` with each value shown exactly."""
    arguments = ", ".join(
        f"{esc(name)}={literal(value, limit)}" for name, value in sorted(call.arguments.items())
    )
    return f"<code>{esc(call.tool)}</code>({arguments})"


def render_answer(answer: Answered) -> Rendered:
    lines = [esc(answer.text)]
    if answer.open_incidents == 0:
        lines.append(HINT)
    return Rendered(text=fit_lines("\n".join(lines).splitlines(), limit=MAX_MESSAGE_CHARS))


def render_proposed(proposed: Proposed, *, shadow: bool, has_alert_chat: bool) -> Rendered:
    incident = f"#{proposed.incident_id} {truncate(proposed.incident_title, 120)}"
    opened = f"I opened {incident} for it. " if proposed.opened else ""
    if shadow:
        where = "Shadow mode: the decision is recorded, not posted, and nothing runs."
    elif not has_alert_chat:
        where = "No alert chat is set (HOWL_ALERT_CHAT_ID): the card is not posted."
    else:
        where = (
            f"The decision card with Approve / Reject answers the card of #{proposed.incident_id} "
            "in the on-call chat; nothing runs until an approver presses Approve."
        )
    lines = [
        f"📝 Proposed {call_html(proposed.call)} for {incident}, as you asked.",
        f"{opened}{where}",
        f"<i>Run {code(proposed.run_id)}</i>",
    ]
    return Rendered(text="\n".join(lines))


def _tool_lines(tools: Sequence[ToolSpec]) -> list[str]:
    lines = [f"• {code(t.name)} — {truncate(t.description, 120)}" for t in tools[:MAX_TOOLS]]
    if len(tools) > MAX_TOOLS:
        lines.append(f"• … and {len(tools) - MAX_TOOLS} more")
    return lines


def render_refused(refused: Refused) -> Rendered:
    head = f"🚫 I can't do that: no registered action fits “{truncate(refused.text, 200)}”."
    lines = [head]
    if refused.reason:
        lines.append(f"Why: {truncate(refused.reason, 400)}")
    if refused.tools:
        lines += ["What I can propose (an approver confirms each):", *_tool_lines(refused.tools)]
    else:
        lines.append("No actions are registered ([[actions]] in HOWL_CONFIG).")
    return Rendered(text=fit_lines(lines, limit=MAX_MESSAGE_CHARS))


def render_chat_reply(reply: ChatReply, *, shadow: bool, has_alert_chat: bool) -> Rendered:
    """The reply to a message to the bot, whatever it became."""
    if isinstance(reply, Answered):
        return render_answer(reply)
    if isinstance(reply, Proposed):
        return render_proposed(reply, shadow=shadow, has_alert_chat=has_alert_chat)
    return render_refused(reply)
