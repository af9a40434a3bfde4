"""The replies to messages in words: escaped, exact about arguments, never silent."""

from __future__ import annotations

from bot.render.chat import HINT, MAX_TOOLS, call_html, render_chat_reply
from core.chat.service import Answered, Proposed, Refused
from core.llm.types import ToolCall, ToolParam, ToolSpec
from core.messages import Rendered

RESTART = ToolSpec(
    name="restart_deployment",
    description="Rolling restart of a <deployment>",
    params=(ToolParam(name="name", pattern="^[a-z-]+$"),),
)
CALL = ToolCall(tool="restart_deployment", arguments={"namespace": "prod", "name": "api"})


def render(reply: Answered | Proposed | Refused, **flags: bool) -> Rendered:
    return render_chat_reply(
        reply, shadow=flags.get("shadow", False), has_alert_chat=flags.get("chat", True)
    )


def test_an_answer_is_escaped_and_hints_only_when_nothing_is_open() -> None:
    busy = render(Answered(text="#1 <b>critical</b> & firing", open_incidents=1))
    assert busy.text == "#1 &lt;b&gt;critical&lt;/b&gt; &amp; firing"
    quiet = render(Answered(text="No open incidents right now.", open_incidents=0))
    assert quiet.text == f"No open incidents right now.\n{HINT}"


def test_a_long_answer_fits_one_message() -> None:
    text = "\n".join(f"#{i} " + "x" * 90 for i in range(200))
    assert len(render(Answered(text=text, open_incidents=200)).text) <= 4096


def test_arguments_are_shown_exactly_as_they_would_run() -> None:
    assert call_html(CALL) == "<code>restart_deployment</code>(name=api, namespace=prod)"
    odd = ToolCall(tool="t", arguments={"name": "a, ns=kube-system<x>"})
    assert call_html(odd) == '<code>t</code>(name="a, ns=kube-system&lt;x&gt;")'


def test_a_proposal_says_where_the_card_is() -> None:
    proposed = Proposed(call=CALL, incident_id=3, incident_title="Api <down>", run_id="r-1")
    lines = render(proposed).text.splitlines()
    assert lines[0] == (
        "📝 Proposed <code>restart_deployment</code>(name=api, namespace=prod) for "
        "#3 Api &lt;down&gt;, as you asked."
    )
    assert lines[1] == (
        "The decision card with Approve / Reject answers the card of #3 in the on-call chat; "
        "nothing runs until an approver presses Approve."
    )
    assert lines[2] == "<i>Run <code>r-1</code></i>"
    opened = render(proposed.model_copy(update={"opened": True})).text
    assert "I opened #3 Api &lt;down&gt; for it. The decision card" in opened
    assert "Shadow mode: the decision is recorded, not posted" in render(proposed, shadow=True).text
    assert "HOWL_ALERT_CHAT_ID" in render(proposed, chat=False).text


def test_a_refusal_names_what_the_registry_can_do() -> None:
    refused = Refused(
        text="drain <node>", reason="no registered action does cordon", tools=(RESTART,)
    )
    assert render(refused).text.splitlines() == [
        "🚫 I can't do that: no registered action fits “drain &lt;node&gt;”.",
        "Why: no registered action does cordon",
        "What I can propose (an approver confirms each):",
        "• <code>restart_deployment</code> — Rolling restart of a &lt;deployment&gt;",
    ]
    many = Refused(text="x", reason="", tools=tuple(
        RESTART.model_copy(update={"name": f"a{i}"}) for i in range(MAX_TOOLS + 3)))  # fmt: skip
    lines = render(many).text.splitlines()
    assert lines[-1] == "• … and 3 more" and len(lines) == 2 + MAX_TOOLS + 1
    assert render(Refused(text="x", reason="")).text.endswith(
        "No actions are registered ([[actions]] in HOWL_CONFIG)."
    )
