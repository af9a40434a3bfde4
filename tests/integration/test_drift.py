"""Drift as `howl run` and `howl drift scan` wire it: the scheduled job, /drift, the CLI.

The cluster is the fake kubectl of tests/unit/drift/world.py and Git a real
repository in a temporary folder.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import text

from bot.app import build_application
from bot.drift import JOB_NAME, schedule_drift
from bot.handlers.drift import scan_drift
from bot.keyboards import DRIFT_SCOPE, InvalidCallback, parse_drift
from bot.services import Services
from core.approvals import NOT_APPROVER
from core.drift.config import Schedule
from core.drift.operations import ignore
from tests.integration.conftest import ALICE, BOB, ONCALL, TelegramWorld
from tests.integration.howl_process import howl_env, run_howl_command, running_howl
from tests.integration.services import migrated_services
from tests.integration.test_buttons import answer_to
from tests.servers.telegram import wait_for
from tests.unit.drift.world import World, desired_objects, git, make_world


def drift_toml(world: World, **extra: str) -> str:
    lines = [
        "[drift]",
        f'desired = "{world.repo / "manifests"}"',
        f'live_command = ["{world.kubectl}", "get", "deploy,svc,cm", "-A", "-o", "json"]',
        f'kubectl = "{world.kubectl}"',
        'schedule = "15m"',
    ]
    lines += [f"{key} = {value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path / "world")


@pytest.fixture
async def services(tmp_path: Path, world: World) -> AsyncIterator[Services]:
    config = tmp_path / "howl.toml"
    config.write_text(drift_toml(world))
    async with migrated_services(tmp_path / "h.db", HOWL_CONFIG=str(config)) as built:
        yield built


async def drift_cards(services: Services) -> list[str]:
    async with services.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT key FROM cards WHERE key LIKE 'drift:%' ORDER BY key")
        )
        return [key for (key,) in rows.all()]


def audit_actions(tmp_path: Path) -> list[tuple[str]]:
    with sqlite3.connect(tmp_path / "howl.db") as db:
        return db.execute(
            "SELECT action FROM audit_log WHERE action LIKE 'drift.%' ORDER BY id"
        ).fetchall()


def drifted(
    replicas: int = 7, image: str = "registry.example/api:1.4.2"
) -> list[dict[str, object]]:
    live = desired_objects()
    live[0]["spec"]["replicas"] = replicas  # type: ignore[index]
    live[0]["spec"]["template"]["spec"]["containers"][0]["image"] = image  # type: ignore[index]
    return live


async def test_the_job_is_scheduled_from_the_config(services: Services) -> None:
    application = build_application(services, token="1:x", base_url="http://127.0.0.1:9/bot")
    assert application.job_queue is not None
    [job] = application.job_queue.get_jobs_by_name(JOB_NAME)
    assert job.callback is scan_drift
    assert job.trigger.interval == timedelta(minutes=15)  # type: ignore[attr-defined]


async def test_scheduled_scans_post_a_card_only_for_new_drift(
    services: Services, world: World
) -> None:
    """The job queue running: scans every 50 ms, one card per new drift, none repeated."""
    application = build_application(services, token="1:x", base_url="http://127.0.0.1:9/bot")
    job_queue = application.job_queue
    assert job_queue is not None
    for job in job_queue.jobs():
        job.schedule_removal()  # only the drift job below runs here
    scans = 0
    done = asyncio.Condition()

    async def counted(context: object) -> None:
        nonlocal scans
        await scan_drift(context)  # type: ignore[arg-type]
        async with done:
            scans += 1
            done.notify_all()

    async def after(more: int) -> None:
        target = scans + more
        async with done:
            await asyncio.wait_for(done.wait_for(lambda: scans >= target), timeout=20)

    runtime = services.drift
    fast = runtime.scanner.config.model_copy(  # type: ignore[union-attr]
        update={"schedule": Schedule(every=timedelta(milliseconds=50))}
    )
    runtime.scanner.config = fast
    world.set_live(desired_objects())
    await job_queue.start()
    try:
        schedule_drift(job_queue, runtime, counted)
        await after(2)
        assert await drift_cards(services) == [], "no drift, no card"

        world.set_live(drifted(replicas=7))
        await after(3)
        [first] = await drift_cards(services)

        world.set_live(drifted(replicas=7, image="registry.example/api:hotfix"))
        await after(3)
        cards = await drift_cards(services)
        assert len(cards) == 2, "the image drift is new: a second card, once"

        # Ignore the object on the latest card: its drift stays quiet until it changes
        latest = next(c for c in cards if c != first)
        report = await runtime.scanner.store.get_report(UUID(latest.removeprefix("drift:")))
        assert report is not None
        await ignore(report, 0, store=runtime.scanner.store, actor="alice")
        await after(3)
        assert len(await drift_cards(services)) == 2
        world.set_live(drifted(replicas=9, image="registry.example/api:hotfix"))
        await after(3)
        assert len(await drift_cards(services)) == 3, "replicas changed again: announced"
    finally:
        await job_queue.stop(wait=True)


async def test_scheduled_scan_problems_post_nothing_and_never_raise(
    services: Services, world: World
) -> None:
    world.set_live("not json at all")
    assert await services.drift.scheduled_scan() is None
    assert await drift_cards(services) == []


async def test_drift_command_answers_with_the_card_and_its_buttons(
    tmp_path: Path, telegram: TelegramWorld, world: World
) -> None:
    config = tmp_path / "howl.toml"
    config.write_text(drift_toml(world))
    world.set_live(drifted(replicas=7))
    async with running_howl(tmp_path, HOWL_CONFIG=str(config), **telegram.settings()):
        sent = await telegram.emulator.user_sends(ONCALL, ALICE, "/drift")
        message_id = sent["message"]["message_id"]
        [answer] = await wait_for(
            lambda: [m for m in telegram.emulator.bot_messages(ONCALL) if m.reply_to == message_id],
            what="the /drift answer",
        )
        assert answer.text.startswith("🧭 Config drift — 🟡 warning")
        assert "spec.replicas: 3 → 7" in answer.text
        assert "incident scaling" in answer.text
        assert answer.reply_markup is not None
        buttons = [b for row in answer.reply_markup["inline_keyboard"] for b in row]
        assert [b["text"] for b in buttons] == ["↩️ Roll back", "📥 Adopt", "🔕 Ignore"]
        assert all(b["callback_data"].startswith(f"{DRIFT_SCOPE}:") for b in buttons)
        assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
        roll_back, adopt, ignore_ = (b["callback_data"] for b in buttons)

        async def pressed(user: int, data: str) -> str:
            query = await telegram.emulator.user_presses(ONCALL, user, answer.message_id, data)
            return await answer_to(telegram, query)

        # only an approver decides: anyone else is told so and nothing is applied
        calls = len(world.kubectl_calls())
        assert await pressed(BOB, roll_back) == NOT_APPROVER
        assert all(call[0] == "get" for call in world.kubectl_calls()[calls:])
        assert (await pressed(ALICE, roll_back)).startswith("Rolled back. (by Alice")
        [applied] = [call for call in world.kubectl_calls() if call[0] == "apply"]
        assert applied[1] == "-f" and applied[2].startswith(str(world.repo / "manifests"))
        adopted = await pressed(ALICE, adopt)
        assert adopted.startswith("Adopted on branch ")
        branch = adopted.removeprefix("Adopted on branch ").split(" ")[0]
        assert branch in git(world.repo, "branch", "--list")
        assert await pressed(ALICE, ignore_) == "Ignored until it changes again."
        trail = [row[0] for row in audit_actions(tmp_path)]
        assert trail == ["drift.rollback", "drift.adopt", "drift.ignore"]
        # /help lists it
        sent = await telegram.emulator.user_sends(ONCALL, ALICE, "/help")
        help_id = sent["message"]["message_id"]
        [help_text] = await wait_for(
            lambda: [
                m.text for m in telegram.emulator.bot_messages(ONCALL) if m.reply_to == help_id
            ],
            what="/help",
        )
        assert "/drift — Scan for config drift now" in help_text


def test_forged_drift_data_is_refused() -> None:
    from bot.keyboards import CallbackCodec

    codec, other = CallbackCodec(b"k" * 32), CallbackCodec(b"x" * 32)
    data = other.encode(DRIFT_SCOPE, "r", "A" * 22, "0")
    with pytest.raises(InvalidCallback):
        parse_drift(codec, data)


async def test_howl_drift_scan_prints_and_stores_the_report(tmp_path: Path, world: World) -> None:
    config = tmp_path / "howl.toml"
    config.write_text(drift_toml(world))
    world.set_live(drifted(replicas=7, image="registry.example/api:9.9"))
    env = howl_env(tmp_path, HOWL_CONFIG=str(config))
    code, out, err = await run_howl_command("drift", "scan", env=env, cwd=tmp_path)
    assert (code, err) == (0, ""), err
    assert "2 difference(s) in 1 object(s): 1 critical, 1 warning." in out
    assert "critical spec.template.spec.containers[name=api].image" in out
    assert "warning  spec.replicas: 3 -> 7" in out
    with sqlite3.connect(tmp_path / "howl.db") as db:
        assert db.execute("SELECT count(*) FROM drift_reports").fetchone() == (1,)


@pytest.mark.parametrize(
    ("arrange", "expected"),
    [
        ("missing", "HOWL_CONFIG [drift] desired: no such file or folder"),
        ("not_git", "is not inside a git working tree"),
        ("no_command", "HOWL_CONFIG [drift] live_command: binary 'no-such-kubectl' not found"),
        ("bad_schedule", "HOWL_CONFIG [drift] schedule: 'every tuesday'"),
        ("shell_string", "HOWL_CONFIG [drift] live_command: expected a non-empty list"),
    ],
)
@pytest.mark.parametrize("command", [("run",), ("drift", "scan")])
async def test_bad_drift_config_is_one_line(
    tmp_path: Path, world: World, arrange: str, expected: str, command: tuple[str, ...]
) -> None:
    toml = drift_toml(world)
    if arrange == "missing":
        toml = toml.replace(str(world.repo / "manifests"), str(tmp_path / "nowhere"))
    elif arrange == "not_git":
        (tmp_path / "plain").mkdir()
        toml = toml.replace(str(world.repo / "manifests"), str(tmp_path / "plain"))
    elif arrange == "no_command":
        toml = toml.replace(
            f'live_command = ["{world.kubectl}"', 'live_command = ["no-such-kubectl"'
        )
    elif arrange == "bad_schedule":
        toml = toml.replace('schedule = "15m"', 'schedule = "every tuesday"')
    else:
        toml = toml.replace(
            toml.splitlines()[2], f'live_command = "{world.kubectl} get all -o json"'
        )
    config = tmp_path / "howl.toml"
    config.write_text(toml)
    code, _, err = await run_howl_command(
        *command, env=howl_env(tmp_path, HOWL_CONFIG=str(config)), cwd=tmp_path
    )
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and "Traceback" not in err, err
    assert expected in lines[0]


async def test_live_output_that_is_not_json_is_one_line_after_the_report(
    tmp_path: Path, world: World
) -> None:
    config = tmp_path / "howl.toml"
    config.write_text(drift_toml(world))
    world.set_live("<html>please log in</html>")
    code, out, err = await run_howl_command(
        "drift", "scan", env=howl_env(tmp_path, HOWL_CONFIG=str(config)), cwd=tmp_path
    )
    assert code == 1
    assert (
        err.strip()
        == "howl: [drift] live_command: live output is not JSON (Expecting value at line 1)"
    )
    assert "problem: [drift] live_command: live output is not JSON" in out


async def test_a_cron_schedule_becomes_a_cron_job(tmp_path: Path, world: World) -> None:
    from apscheduler.triggers.cron import CronTrigger

    config = tmp_path / "cron.toml"
    config.write_text(drift_toml(world).replace('schedule = "15m"', 'schedule = "*/10 * * * *"'))
    async with migrated_services(tmp_path / "c.db", HOWL_CONFIG=str(config)) as built:
        application = build_application(built, token="1:x", base_url="http://127.0.0.1:9/bot")
        assert application.job_queue is not None
        [job] = application.job_queue.get_jobs_by_name(JOB_NAME)
        assert isinstance(job.trigger, CronTrigger)
        assert str(job.trigger.fields[6]) == "*/10"  # the minute field


async def test_no_drift_table_no_job_and_drift_says_so(services: Services, tmp_path: Path) -> None:
    async with migrated_services(tmp_path / "n.db") as bare:
        application = build_application(bare, token="1:x", base_url="http://127.0.0.1:9/bot")
        assert application.job_queue is not None
        assert application.job_queue.get_jobs_by_name(JOB_NAME) == ()
        report, new = await bare.drift.scanner.scan_announcing()
        assert (report.problems, new) == (
            ("HOWL_CONFIG has no [drift] table: nothing to scan",),
            False,
        )
