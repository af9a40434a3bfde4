"""The `howl` command line: one clear line and a non-zero exit for every mistake."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.integration.conftest import TelegramWorld
from tests.integration.howl_process import howl_env, run_howl_command


def assert_one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


async def test_version(tmp_path: Path) -> None:
    code, out, _ = await run_howl_command("--version", env=howl_env(tmp_path), cwd=tmp_path)
    assert code == 0
    assert out.strip() == "howl 0.1.0"


async def test_unknown_subcommand(tmp_path: Path) -> None:
    code, _, err = await run_howl_command("frobnicate", env=howl_env(tmp_path), cwd=tmp_path)
    assert code == 2
    line = assert_one_line(err)
    assert "invalid choice: 'frobnicate'" in line


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "HOWL_ALERT_CHAT_ID",
            "on-call",
            "bad setting HOWL_ALERT_CHAT_ID: Input should be a valid integer",
        ),
        ("HOWL_HTTP_LISTEN", "8088", "bad setting HOWL_HTTP_LISTEN: expected HOST:PORT"),
        ("HOWL_APPROVER_IDS", "42,alice", "bad setting HOWL_APPROVER_IDS"),
        ("HOWL_AUTOPILOT", "yolo", "bad setting HOWL_AUTOPILOT: Input should be 'off' or 'low'"),
        ("HOWL_DATABASE_URL", "mysql://x", "bad setting HOWL_DATABASE_URL: expected an async"),
        ("HOWL_DEBATE_TIMEOUT_S", "-1", "bad setting HOWL_DEBATE_TIMEOUT_S"),
        ("HOWL_CONFIG", "/nonexistent/howl.toml", "HOWL_CONFIG: no such file"),
    ],
)
async def test_bad_setting_stops_run_with_one_line(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    env = howl_env(tmp_path, **{variable: value})
    code, _, err = await run_howl_command("run", env=env, cwd=tmp_path)
    assert code == 1
    assert expected in assert_one_line(err)
    assert not (tmp_path / "howl.db").exists(), "nothing may be created on bad settings"


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[incidents]\ngroup_by = \"alertname\"\n",
         "HOWL_CONFIG [incidents] group_by: expected a non-empty list of label names"),
        ("[incidents]\nrenotify_after = \"soon\"\n",
         "HOWL_CONFIG [incidents] renotify_after: expected a duration like 30m or 2h"),
        ("[incidents]\nmention = \"@alice\"\n", "HOWL_CONFIG [incidents] mention: expected a list"),
        ("[incidents]\nkeep_alerts = \"forever\"\n",
         "HOWL_CONFIG [incidents] keep_alerts: Give a duration like 30m, 2h or 1d (up to 3650d)."),
        ("[llm.routes.diagnose]\nproviders = [\"nowhere\"]\n", "nowhere"),
        ("[[actions]\n", "is not valid TOML"),
    ],
)  # fmt: skip
async def test_bad_howl_config_stops_run_with_one_line(
    tmp_path: Path, toml: str, expected: str
) -> None:
    config = tmp_path / "howl.toml"
    config.write_text(toml)
    env = howl_env(tmp_path, HOWL_CONFIG=str(config))
    code, _, err = await run_howl_command("run", env=env, cwd=tmp_path)
    assert code == 1
    assert expected in assert_one_line(err)
    assert not (tmp_path / "howl.db").exists(), "nothing may be created on a bad config"


_ACTION = "HOWL_CONFIG [[actions]] restart_api"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ('["kubectl-not-installed-here", "rollout", "restart", "deployment/{name}"]',
         f"{_ACTION}: binary 'kubectl-not-installed-here' not found on PATH"),
        ('["/nonexistent/bin/kubectl", "rollout", "restart", "deployment/{name}"]',
         f"{_ACTION}: binary '/nonexistent/bin/kubectl' is not an executable file"),
        ('"kubectl rollout restart deployment/{name}"',
         f"{_ACTION}: command: expected a non-empty list of strings"),
    ],
)  # fmt: skip
async def test_a_broken_action_stops_run_with_one_line(
    tmp_path: Path, command: str, expected: str
) -> None:
    config = tmp_path / "howl.toml"
    config.write_text(
        '[[actions]]\nname = "restart_api"\ndescription = "Restart"\n'
        f'command = {command}\nparams = {{ name = "^[a-z-]+$" }}\n'
    )
    env = howl_env(tmp_path, HOWL_CONFIG=str(config))
    code, _, err = await run_howl_command("run", env=env, cwd=tmp_path)
    assert code == 1
    assert assert_one_line(err).startswith(f"howl: {expected}")
    assert not (tmp_path / "howl.db").exists(), "nothing may start with a broken action"


async def test_bad_setting_from_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("HOWL_APPROVAL_TTL_S=soon\n")
    code, _, err = await run_howl_command("run", env=howl_env(tmp_path), cwd=tmp_path)
    assert code == 1
    assert "bad setting HOWL_APPROVAL_TTL_S" in assert_one_line(err)


async def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("HOWL_DATABASE_URL=mysql://nope\n")
    env = howl_env(tmp_path)
    code, out, err = await run_howl_command("db", "upgrade", env=env, cwd=tmp_path)
    assert code == 0, err
    assert "database at revision" in out


async def test_refuses_public_listen_without_webhook_token(tmp_path: Path) -> None:
    env = howl_env(tmp_path, HOWL_HTTP_LISTEN="0.0.0.0:8088")
    code, _, err = await run_howl_command("run", env=env, cwd=tmp_path)
    assert code == 1
    assert "set HOWL_WEBHOOK_TOKEN" in assert_one_line(err)


async def test_rejected_token_is_one_line(tmp_path: Path, telegram: TelegramWorld) -> None:
    settings = telegram.settings(TELEGRAM_BOT_TOKEN="999:wrong-token")
    code, _, err = await run_howl_command("run", env=howl_env(tmp_path, **settings), cwd=tmp_path)
    assert code == 1
    assert "TELEGRAM_BOT_TOKEN: the Bot API rejected the token" in err.strip().splitlines()[-1]
    assert "wrong-token" not in err


async def test_db_upgrade_applies_migrations(tmp_path: Path) -> None:
    env = howl_env(tmp_path)
    code, out, err = await run_howl_command("db", "upgrade", env=env, cwd=tmp_path)
    assert code == 0, err
    with sqlite3.connect(tmp_path / "howl.db") as db:
        tables = {row[0] for row in db.execute("select name from sqlite_master where type='table'")}
        journal = db.execute("pragma journal_mode").fetchone()[0]
    assert {"processed_updates", "outbox", "cards", "audit_log", "alembic_version"} <= tables
    assert journal == "wal"
    assert out.startswith("database at revision ")


async def test_db_upgrade_unreachable_database(tmp_path: Path) -> None:
    env = howl_env(tmp_path, HOWL_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/missing/dir/x.db")
    code, _, err = await run_howl_command("db", "upgrade", env=env, cwd=tmp_path)
    assert code == 1
    assert assert_one_line(err).startswith("howl: HOWL_DATABASE_URL:")


async def test_malformed_knowledge_file_stops_run_with_one_line(tmp_path: Path) -> None:
    team = tmp_path / "team.toml"
    team.write_text(
        '[[family]]\nkey = "license"\ntitle = "License"\nrisk = "medium"\n'
        'worst_case = "builds wait"\nchecks = ["lmstat"]\n'
        'causes = [{ text = "daemon hangs", confidence = 1.5 }]\n'
    )
    config = tmp_path / "howl.toml"
    config.write_text('[knowledge]\nfiles = ["team.toml"]\n')
    env = howl_env(tmp_path, HOWL_CONFIG=str(config))
    code, _, err = await run_howl_command("run", env=env, cwd=tmp_path)
    assert code == 1
    assert assert_one_line(err) == (
        f"howl: knowledge file {team}: family[0].causes[0].confidence: "
        "Input should be less than or equal to 1"
    )
    assert not (tmp_path / "howl.db").exists(), "nothing may be created on a bad knowledge file"
