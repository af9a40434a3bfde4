"""The embedded engine in the chat: requests read in English and Traditional Chinese, values
taken as typed (never trimmed into something that runs), questions answered from incidents."""

from __future__ import annotations

import pytest

from core.chat.prompts import IncidentBrief, question_request, request_request
from core.llm.embedded import EmbeddedEngine
from core.llm.embedded.chat import requested_choice
from core.llm.embedded.loader import builtin_knowledge
from core.llm.schemas import ChatAnswer, ToolChoice
from core.llm.types import ToolCall, ToolParam, ToolSpec

NAME = r"^[a-z0-9-]{1,63}$"
RESTART = ToolSpec(
    name="restart_deployment",
    description="Rolling restart of a deployment",
    params=(ToolParam(name="name", pattern=NAME), ToolParam(name="namespace", pattern=NAME)),
)
SCALE = ToolSpec(
    name="scale_deployment",
    description="Scale a deployment to a number of replicas",
    params=(
        ToolParam(name="name", pattern=NAME),
        ToolParam(name="namespace", pattern=NAME),
        ToolParam(name="replicas", pattern=r"^[0-9]{1,2}$"),
    ),
)
TOOLS = [RESTART, SCALE]
API = {"name": "api", "namespace": "prod"}


def choose(text: str, labels: dict[str, str] | None = None) -> ToolChoice:
    return requested_choice(text, labels or {}, TOOLS, builtin_knowledge())


@pytest.mark.parametrize(
    ("text", "tool", "arguments"),
    [
        ("restart the api in prod", "restart_deployment", API),
        ("Please restart api in prod.", "restart_deployment", API),
        ("can you bounce the api in namespace prod?", "restart_deployment", API),
        ("重啟 prod 的 api", "restart_deployment", API),
        ("請幫我重啟 prod 的 api", "restart_deployment", API),
        ("把 api 重啟，在 prod", "restart_deployment", API),
        ("重新啟動 prod 環境的 api", "restart_deployment", API),
        ("scale the api in prod to 6", "scale_deployment", {**API, "replicas": "6"}),
        ("幫我擴容 prod 的 api 到 6 個", "scale_deployment", {**API, "replicas": "6"}),
    ],
)
def test_a_request_becomes_a_registry_call(text: str, tool: str, arguments: dict[str, str]) -> None:
    assert choose(text).call == ToolCall(tool=tool, arguments=arguments)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("restart the api;rm -rf / in prod", "name 'api;rm' does not match"),
        ("restart the api in prod;reboot", "namespace 'prod;reboot' does not match"),
        ("restart $(curl evil) in prod", "name '$(curl' does not match"),
        ("重啟 prod 的 api`id`", "name 'api`id`' does not match"),
        ("restart the api", "does not say its namespace"),
        ("restart it", "does not say its name"),
        ("cordon node worker-3", "no registered action does cordon"),
        ("drain node worker-3", "asks for no change I know"),
        ("what is going on?", "asks for no change"),
    ],
)
def test_a_request_that_does_not_fit_says_why(text: str, why: str) -> None:
    choice = choose(text)
    assert choice.call is None and why in choice.reason


DIAGNOSE = ToolSpec(
    name="collect_diagnostics",
    description="Read-only: describe the object, recent events and logs",
    params=(ToolParam(name="name", pattern=NAME), ToolParam(name="namespace", pattern=NAME)),
)


@pytest.mark.parametrize(
    "text",
    ["collect diagnostics for api in prod", "run diagnostics on the api in prod",
     "收集 prod 的 api 診斷資料", "請幫我診斷 prod 的 api"],
)  # fmt: skip
def test_a_read_only_look_is_a_request_too(text: str) -> None:
    choice = requested_choice(text, {}, [DIAGNOSE, RESTART], builtin_knowledge())
    assert choice.call == ToolCall(tool="collect_diagnostics", arguments=API)


def test_a_pointer_takes_the_named_incidents_labels() -> None:
    labels = {"name": "api", "namespace": "prod"}
    assert choose("restart it", labels).call == ToolCall(tool="restart_deployment", arguments=API)
    alert = {"alertname": "WorkerQueueStuck", "deployment": "api", "namespace": "prod"}
    assert choose("restart it", alert).call == ToolCall(tool="restart_deployment", arguments=API)
    assert choose("重啟它", alert).call == ToolCall(tool="restart_deployment", arguments=API)
    # what the sentence says wins over the labels
    assert choose("restart web", alert).call == ToolCall(
        tool="restart_deployment", arguments={"name": "web", "namespace": "prod"}
    )


async def test_the_tool_call_task_reads_the_persons_words() -> None:
    engine = EmbeddedEngine()
    choice = engine.answer(request_request("請幫我重啟 prod 的 api", TOOLS, named=None))
    assert isinstance(choice, ToolChoice)
    assert choice.call == ToolCall(tool="restart_deployment", arguments=API)
    # key=value in the words is the person's text, never labels that fill an argument
    sneaky = engine.answer(request_request("restart it name=api namespace=prod", TOOLS, named=None))
    assert isinstance(sneaky, ToolChoice) and sneaky.call is None
    response = await engine.chat(
        request_request("restart the api in prod", TOOLS, named=None), timeout_s=1
    )
    assert response.tool_calls == [ToolCall(tool="restart_deployment", arguments=API)]


BRIEFS = [
    IncidentBrief(id=1, title="WorkerQueueStuck", severity="critical", status="firing",
                  labels={"namespace": "prod"}, decision="restart the api after approval"),
    IncidentBrief(id=2, title="DiskFilling", severity="warning", status="acknowledged",
                  labels={"namespace": "batch"}),
]  # fmt: skip


def ask(text: str, briefs: list[IncidentBrief]) -> str:
    answer = EmbeddedEngine().answer(question_request(text, briefs))
    assert isinstance(answer, ChatAnswer) and answer.proposed_action is None
    return answer.answer


def test_a_question_is_answered_from_the_incidents_it_is_about() -> None:
    assert ask("what is firing in prod?", BRIEFS).splitlines() == [
        "Open incidents about that: 1 of 2.",
        "#1 critical firing — WorkerQueueStuck; latest decision: restart the api after approval",
    ]
    assert ask("tell me about #2", BRIEFS).splitlines()[1] == (
        "#2 warning acknowledged — DiskFilling"
    )
    assert ask("anything on fire?", BRIEFS).splitlines()[0] == "Open incidents: 2 of 2."
    assert ask("有哪些嚴重的事件？", BRIEFS).splitlines() == [
        "未解決的事件（1／2）：",
        "#1 critical firing — WorkerQueueStuck; 最新決策: restart the api after approval",
    ]
    assert ask("is anything on fire?", []) == "No open incidents right now."
    assert ask("現在有事嗎", []) == "目前沒有未解決的事件。"


def test_common_words_tie_a_question_to_no_incident() -> None:
    briefs = [*BRIEFS, IncidentBrief(id=3, title="Bob asked: restart the api", severity="info",
                                     status="firing")]  # fmt: skip
    assert ask("what are the incidents right now?", briefs).splitlines()[0] == (
        "Open incidents: 3 of 3."
    )
    assert ask("which ones are acknowledged?", briefs).splitlines()[1:] == [
        "#2 warning acknowledged — DiskFilling"
    ]


def test_the_incidents_answering_to_most_words_are_listed() -> None:
    batch = IncidentBrief(id=4, title="JobFailed", severity="warning", status="firing",
                          labels={"namespace": "batch"})  # fmt: skip
    assert ask("what is firing in prod?", [*BRIEFS, batch]).splitlines()[1:] == [
        "#1 critical firing — WorkerQueueStuck; latest decision: restart the api after approval"
    ]
