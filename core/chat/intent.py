"""Is a message to the bot a question, or a request to act? English and Traditional Chinese.

Deterministic and pure: a few word lists, no model. A request is a sentence
whose main verb is a change ("restart", "roll back", 重啟, 回滾, 擴容, 刪除…) said
as an imperative, bare or polite ("can you restart…", 請幫我重啟…, 把 api 重啟).
Everything else is a question, and a question never acts: when in doubt the
person gets an answer about the incidents, not an approval card.

The order of the checks is the rule:
1. a sentence opening with a question word ("why did the restart fail?",
   為什麼重啟失敗) is a question, whatever verbs follow;
2. a polite request ("could you roll back payments?", 可以幫我重啟 api 嗎？) is a
   request even with its question mark;
3. a change verb opening the sentence is a request, unless the verb is used
   as a noun ("restart failed again", 重啟失敗了嗎);
4. anything else is a question.

>>> classify("why did the restart fail?"), classify("restart api please")
('question', 'request')
>>> classify("請幫我重啟 prod 的 api"), classify("現在有哪些事件？")
('request', 'question')
"""

from __future__ import annotations

import re
from typing import Literal

Intent = Literal["question", "request"]

#: English verbs that change something (the base form only: "restarts" is a noun or a report)
_EN_VERBS = (
    "restart", "reboot", "bounce", "roll back", "rollback", "revert", "undo", "scale",
    "delete", "remove", "kill", "drain", "cordon", "uncordon", "evict", "redeploy", "deploy",
    "rerun", "re-run", "retry", "renew", "rotate", "purge", "flush", "stop", "start",
    "pause", "resume", "suspend", "apply", "patch", "fail over", "failover", "promote",
    "increase", "decrease", "recreate", "reset", "terminate", "run", "execute", "trigger",
    "collect", "cancel", "disable", "enable", "upgrade", "downgrade", "expand", "shrink",
)  # fmt: skip
#: words after a verb that show it is a noun or a past event ("restart failed", "run is slow")
_EN_NOUN_USE = (
    "failed", "fails", "failing", "failure", "is", "was", "did", "didn't", "does", "has",
    "had", "keeps", "kept", "loop", "loops", "count", "counts", "status", "history", "time",
    "of", "worked", "happened", "succeeded", "broke", "went", "button", "request",
)  # fmt: skip
#: openings of a polite request, tried repeatedly ("please can you just restart …")
_EN_POLITE = (
    "please", "pls", "plz", "kindly", "can you", "could you", "would you", "will you",
    "can u", "could u", "go ahead and", "i need you to", "i want you to", "i'd like you to",
    "i would like you to", "we need you to", "let's", "lets", "let us", "just", "now",
    "quickly", "asap",
)  # fmt: skip
#: openings that only make a request when a change verb follows (else they are asks)
_EN_ASKING = ("can you", "could you", "would you", "will you", "can u", "could u")
_EN_QUESTION_WORDS = (
    "what", "what's", "whats", "why", "which", "who", "whose", "when", "where", "how",
    "is", "are", "was", "were", "do", "does", "did", "has", "have", "had", "any",
    "anything", "should", "shall", "can we", "can i", "could we", "may", "will it",
    "would it", "tell", "show", "list", "explain", "describe", "summarize", "summarise",
    "give", "check", "status",
)  # fmt: skip

#: Traditional Chinese change verbs (longest first, so 重新啟動 wins over 啟動)
_ZH_VERBS = (
    "重新啟動", "重新部署", "重新執行", "重啟", "重開", "回滾", "回退", "還原", "擴容",
    "縮容", "擴充", "擴展", "刪除", "刪掉", "移除", "終止", "殺掉", "停止", "停掉", "重跑",
    "重試", "部署", "排空", "隔離", "續期", "清除", "清空", "執行", "啟動", "暫停", "恢復",
    "升級", "降級", "收集", "診斷",
)  # fmt: skip
#: after a verb: it is a noun or a past event (重啟失敗, 重啟了嗎, 重啟的原因)
_ZH_NOUN_USE = ("失敗", "成功", "完成", "了", "過", "的", "次數", "狀態", "紀錄", "記錄", "是")
_ZH_POLITE = (
    "請問", "請你", "請幫我", "請幫忙", "請", "麻煩你", "麻煩", "幫我", "幫忙", "煩請",
    "可以幫我", "可不可以幫我", "能不能幫我", "能幫我", "能否", "可否", "能不能", "可以",
    "可不可以", "現在", "馬上", "立刻", "先",
)  # fmt: skip
#: openings that ask something even when a verb follows (請問 is "may I ask")
_ZH_QUESTION_OPENINGS = ("請問", "為什麼", "為何", "什麼", "甚麼", "哪", "誰", "怎麼", "如何")
_ZH_QUESTION_MARKS = (
    "嗎", "呢", "為什麼", "為何", "什麼", "甚麼", "哪", "誰", "幾", "多少", "怎麼", "怎樣",
    "如何", "是否", "是不是", "有沒有", "有無", "何時",
)  # fmt: skip
#: 列出, 告訴我… are asks for information, never changes
_ZH_INFORMATIONAL = ("列出", "告訴", "說明", "解釋", "查看", "看一下", "顯示", "給我看")

#: leading @mentions and incident references ("#12 restart it" is about #12, a request)
_MENTION = re.compile(r"^(?:(?:@\w+|#\d+)[\s,:：，]*)+")
_NAME = re.compile(r"^(?:hey\s+|hi\s+)?howl\b[\s,:：，]*", re.IGNORECASE)
_HAN = re.compile(r"[\u4e00-\u9fff]")


def normalise(text: str) -> str:
    """Lower case, one space between words, without a leading @mention, #id or "howl,"."""
    text = " ".join(text.split()).lower()
    text = _MENTION.sub("", text)
    text = _NAME.sub("", text)
    return text.strip(" ,:：，")


def _opens_with(text: str, words: tuple[str, ...]) -> str | None:
    """The phrase of `words` the text opens with (a whole word in English), else None."""
    for word in sorted(words, key=len, reverse=True):
        if _HAN.match(word):
            if text.startswith(word):
                return word
        elif re.match(rf"{re.escape(word)}(?![\w'-])", text):
            return word
    return None


def _strip_polite(text: str) -> tuple[str, bool]:
    """The text without its polite openings, and whether one asked the bot to do something."""
    asked = False
    while True:
        english = _opens_with(text, _EN_POLITE)
        chinese = None if english else _opens_with(text, _ZH_POLITE)
        found = english or chinese
        if found is None or (found == "請問"):
            return text, asked
        asked = asked or found in _EN_ASKING or found.startswith(("請", "幫", "麻煩", "可", "能"))
        text = text[len(found) :].lstrip(" ,，、")


def _english_imperative(text: str) -> bool:
    verb = _opens_with(text, _EN_VERBS)
    if verb is None:
        return False
    following = text[len(verb) :].strip(" ,").split(maxsplit=1)
    return not (following and following[0].strip("?!.,") in _EN_NOUN_USE)


def _chinese_imperative(text: str) -> bool:
    if _opens_with(text, _ZH_INFORMATIONAL):
        return False
    # 把 api 重啟: the object comes first, the verb after it
    if text.startswith("把"):
        return any(verb in text for verb in _ZH_VERBS)
    verb = _opens_with(text, _ZH_VERBS)
    if verb is None:
        return False
    return not text[len(verb) :].lstrip().startswith(_ZH_NOUN_USE)


def classify(text: str) -> Intent:
    """`request` when the person asks the bot to change something, else `question`."""
    plain = normalise(text)
    if not plain:
        return "question"
    if _opens_with(plain, _EN_QUESTION_WORDS) or _opens_with(plain, _ZH_QUESTION_OPENINGS):
        return "question"
    rest, asked = _strip_polite(plain)
    if _opens_with(rest, _EN_QUESTION_WORDS) and not _english_imperative(rest):
        return "question"
    imperative = _english_imperative(rest) or _chinese_imperative(rest)
    if not imperative:
        return "question"
    if asked:
        return "request"
    # a bare verb with a question particle asks about it (重啟了嗎 is caught above; 重啟好嗎
    # is still a request to do it): only an explicit why/what makes it a question here
    chinese_question = any(mark in rest for mark in _ZH_QUESTION_MARKS if mark not in "嗎呢")
    english_question = re.search(r"\b(?:why|what|which|how come)\b", rest) is not None
    return "question" if chinese_question or english_question else "request"
