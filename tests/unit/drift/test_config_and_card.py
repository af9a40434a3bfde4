"""`[drift]` parsing, the drift buttons' signed data, and the report card's rendering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from bot.keyboards import (
    DRIFT_BUTTON_ROWS,
    MAX_CALLBACK_DATA,
    CallbackCodec,
    InvalidCallback,
    drift_keyboard,
    parse_drift,
)
from bot.render.drift import drift_card, render_drift_report
from bot.render.html import MAX_MESSAGE_CHARS, visible_length
from core.drift.config import drift_config, parse_schedule
from core.drift.models import Difference, DriftLevel, DriftObject, DriftReport, ObjectKey, Reading
from core.errors import ConfigError
from core.messages import Priority

CODEC = CallbackCodec(b"k" * 32)


@pytest.mark.parametrize(
    ("table", "line"),
    [
        ({"live": "/x"}, "HOWL_CONFIG [drift] desired: Field required"),
        ({"desired": "/d"}, "set exactly one of live_command (argv) or live (a folder)"),
        ({"desired": "/d", "live": "/l", "live_command": ["k"]}, "set exactly one of"),
        (
            {"desired": "/d", "live_command": "kubectl get all"},
            "live_command: expected a non-empty list",
        ),
        (
            {"desired": "/d", "live": "/l", "schedule": "soon"},
            "schedule: 'soon': expected an interval",
        ),
        ({"desired": "/d", "live": "/l", "schedule": "10s"}, "scan at most once a minute"),
        ({"desired": "/d", "live": "/l", "schedule": "* * * * * *"}, "schedule:"),
        ({"desired": "/d", "live": "/l", "ignore": "spec.replicas"}, "ignore: expected a list"),
        (
            {"desired": "/d", "live": "/l", "colour": "red"},
            "colour: Extra inputs are not permitted",
        ),
    ],
)
def test_bad_drift_tables_are_one_line(table: dict[str, object], line: str) -> None:
    with pytest.raises(ConfigError) as caught:
        drift_config({"drift": table})
    assert line in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_good_table_and_none() -> None:
    assert drift_config({}) is None
    config = drift_config(
        {"drift": {"desired": "/d", "live": "/l", "schedule": "*/10 * * * *", "ignore": ["a.b"]}}
    )
    assert config is not None
    assert config.schedule.cron == "*/10 * * * *" and config.ignore == ("a.b",)
    assert config.kubectl == "kubectl"
    assert parse_schedule("1h").every == timedelta(hours=1)


def obj(
    name: str, *, live: bool = True, file: str | None = "f.yaml", reading: str = ""
) -> DriftObject:
    key = ObjectKey(api_version="apps/v1", kind="Deployment", namespace="prod", name=name)
    diff = Difference(
        key=key,
        change="changed",
        path="spec.template.spec.containers[name=api].image",
        desired="api:1",
        live=f"<b>api</b>:{'x' * 500}",
        level=DriftLevel.CRITICAL,
    )
    return DriftObject(
        key=key,
        differences=(diff,) * 3,
        desired_file=file,
        live={"kind": "Deployment"} if live else None,
        reading=Reading(
            key=key,
            intent="hotfix",
            explanation=reading or "A <hotfix> & more.",
            recommendation="investigate",
        ),
    )


def report(*objects: DriftObject, problems: tuple[str, ...] = ()) -> DriftReport:
    return DriftReport(
        id=UUID(int=5),
        scanned_at=datetime(2026, 12, 3, 7, tzinfo=UTC),
        objects=objects,
        problems=problems,
        summary="some <summary>",
    )


def test_buttons_are_signed_within_64_bytes_and_read_back() -> None:
    keyboard = drift_keyboard(CODEC, report(obj("a"), obj("b", file=None), obj("c", live=False)))
    assert keyboard is not None
    labels = [[b.text for b in row] for row in keyboard]
    assert labels == [
        ["↩️ Roll back #1", "📥 Adopt #1", "🔕 Ignore #1"],
        ["📥 Adopt #2", "🔕 Ignore #2"],  # an extra object has no desired file to apply
        ["↩️ Roll back #3", "🔕 Ignore #3"],  # a missing object has nothing live to adopt
    ]
    presses = [parse_drift(CODEC, b.callback_data) for row in keyboard for b in row]
    assert [(p.verb, p.index) for p in presses] == [
        ("rollback", 0), ("adopt", 0), ("ignore", 0), ("adopt", 1), ("ignore", 1),
        ("rollback", 2), ("ignore", 2),
    ]  # fmt: skip
    assert {p.report_id for p in presses} == {UUID(int=5)}
    assert all(
        len((b.callback_data or "").encode()) <= MAX_CALLBACK_DATA for r in keyboard for b in r
    )


def test_forged_or_malformed_drift_data_is_refused() -> None:
    good = CODEC.encode("d", "r", "A" * 22, "0")
    for data in (
        good[:-1] + ("A" if good[-1] != "A" else "B"),
        CallbackCodec(b"z" * 32).encode("d", "r", "A" * 22, "0"),
        CODEC.encode("d", "x", "A" * 22, "0"),
        CODEC.encode("d", "r", "A" * 22, "007"),
        CODEC.encode("d", "r", "A" * 21, "0"),
        CODEC.encode("d", "r", "A" * 22),
        CODEC.encode("i", "r", "A" * 22, "0"),
    ):
        with pytest.raises(InvalidCallback):
            parse_drift(CODEC, data)


def test_at_most_five_rows_of_buttons() -> None:
    many = report(*(obj(f"o{i}") for i in range(8)))
    keyboard = drift_keyboard(CODEC, many)
    assert keyboard is not None and len(keyboard) == DRIFT_BUTTON_ROWS
    assert (
        "Buttons for the first 5 objects."
        in drift_card(many, chat_id=1, buttons=CODEC).content.text
    )


def test_the_card_escapes_everything_and_fits_telegram() -> None:
    card = drift_card(
        report(
            *(obj(f"o{i}", reading="<script> " * 300) for i in range(12)), problems=("a <b> & c",)
        ),
        chat_id=-100,
        buttons=CODEC,
    )
    text = card.content.text
    assert "<b>api</b>" not in text and "&lt;b&gt;api&lt;/b&gt;" in text
    assert "<script>" not in text and "&lt;hotfix&gt;" not in text  # the long reading replaced it
    assert "⚠️ a &lt;b&gt; &amp; c" in text, "problems always show"
    assert visible_length(text) <= MAX_MESSAGE_CHARS
    assert card.key == "drift:00000000-0000-0000-0000-000000000005"
    assert card.priority == Priority.URGENT  # critical drift announces itself first


def test_a_clean_report_reads_as_such() -> None:
    clean = DriftReport(
        scanned_at=datetime(2026, 12, 3, 7, tzinfo=UTC),
        summary="No drift: the cluster matches Git.",
    )
    rendered = render_drift_report(clean)
    assert rendered.text.startswith(
        "🧭 <b>Config drift</b> — ✅ none\nNo drift: the cluster matches Git."
    )
    assert rendered.keyboard is None


def test_repository_root_is_found_from_a_subfolder(tmp_path: Path) -> None:
    from core.drift.config import repository_root

    (tmp_path / ".git").mkdir()
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert repository_root(tmp_path / "a" / "b") == tmp_path.resolve()


def test_a_cron_apscheduler_cannot_read_is_one_line() -> None:
    from bot.drift import check_cron

    config = drift_config({"drift": {"desired": "/d", "live": "/l", "schedule": "99 * * * *"}})
    with pytest.raises(ConfigError) as caught:
        check_cron(config)
    assert str(caught.value).startswith("HOWL_CONFIG [drift] schedule: '99 * * * *': ")
    check_cron(drift_config({"drift": {"desired": "/d", "live": "/l", "schedule": "0 3 * * mon"}}))
