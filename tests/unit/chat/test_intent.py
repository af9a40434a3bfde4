"""The classifier: how a message to the bot is read, in English and Traditional Chinese."""

from __future__ import annotations

import pytest

from core.chat.intent import classify, normalise

REQUESTS = [
    "restart the api in prod",
    "Restart api please",
    "restart api please",
    "please restart the checkout deployment in shop",
    "can you restart the api in prod?",
    "Could you roll back payments in prod?",
    "would you scale the api to 6 in prod",
    "roll back checkout to the previous release",
    "rollback checkout in shop",
    "undo the last deploy of api",
    "scale the api to 6 replicas",
    "delete pod api-7d9f8-abcde in prod",
    "kill the stuck job",
    "drain node worker-3",
    "@howl_bot restart the api",
    "Howl, restart api in prod",
    "go ahead and restart api",
    "let's restart the api in prod",
    "I need you to bounce the api",
    "please, just restart it",
    "restart the api; rm -rf / in prod",
    "重啟 prod 的 api",
    "請幫我重啟 api",
    "請重啟 prod 的 api",
    "麻煩回滾 checkout",
    "幫我擴容 api 到 6 個",
    "刪除 pod api-123",
    "可以幫我重啟 api 嗎？",
    "能不能回滾 payments？",
    "把 api 重啟",
    "請把 checkout 回滾到上一版",
    "重新啟動 shop 的 checkout",
    "@howl_bot 請幫我重啟 prod 的 api",
    "#12 restart it",
    "collect diagnostics for api in prod",
    "run diagnostics on the api in prod",
    "收集 prod 的 api 診斷資料",
    "請幫我診斷 prod 的 api",
    "#12: 請重啟",
]
QUESTIONS = [
    "why did the restart fail?",
    "Why did the rollback of checkout not work",
    "what is firing in prod?",
    "which incidents are critical",
    "is the api restarting?",
    "is anything on fire?",
    "any open incidents?",
    "should we restart the api?",
    "can we roll back safely?",
    "how many incidents are open",
    "restart failed again on api",
    "restart count is high on api, is that bad?",
    "restarts on api?",
    "the api keeps restarting",
    "show me the open incidents",
    "list incidents",
    "tell me about #12",
    "what's up with #3",
    "hi, what can you do?",
    "thanks",
    "",
    "為什麼重啟失敗？",
    "現在有哪些事件？",
    "api 是不是掛了",
    "重啟失敗了嗎？",
    "api 重啟了嗎",
    "有什麼正在告警？",
    "#12 是什麼問題",
    "請問 prod 現在正常嗎",
    "請問可以重啟嗎",
    "列出所有事件",
    "告訴我 #3 的狀況",
    "重啟的原因是什麼",
    "@howl_bot 有哪些嚴重的事件？",
    "診斷結果是什麼",
    "收集了哪些資料？",
]


@pytest.mark.parametrize("text", REQUESTS)
def test_a_request_to_act(text: str) -> None:
    assert classify(text) == "request"


@pytest.mark.parametrize("text", QUESTIONS)
def test_a_question(text: str) -> None:
    assert classify(text) == "question"


def test_the_table_covers_both_languages() -> None:
    han = [t for t in REQUESTS + QUESTIONS if any("\u4e00" <= c <= "\u9fff" for c in t)]
    assert len(REQUESTS + QUESTIONS) >= 30 and len(han) >= 10


def test_normalise_drops_the_mention_and_the_name() -> None:
    assert normalise("  @Howl_Bot   Restart  API ") == "restart api"
    assert normalise("Hey Howl: what's up?") == "what's up?"
    assert normalise("@howl_bot #12, restart it") == "restart it"
