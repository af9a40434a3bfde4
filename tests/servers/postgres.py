"""A throwaway PostgreSQL cluster on a free loopback port (for e2e tests and benchmarks)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.servers.telegram import free_port

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def pg_binary(name: str) -> str | None:
    """A PostgreSQL server binary: from the newest installed version, else from PATH."""
    for directory in PG_BIN_DIRS:
        if (directory / name).exists():
            return str(directory / name)
    return shutil.which(name)


@contextlib.contextmanager
def postgres_cluster(initdb: str, pg_ctl: str) -> Iterator[tuple[str, Path]]:
    """Yields an asyncpg URL of the cluster's `postgres` database and the server's log."""
    root = Path(tempfile.mkdtemp(prefix="howl-pg-"))
    data, port = root / "data", free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True)  # noqa: E731
    run(initdb, "-D", str(data), "-U", "howl", "--auth=trust", "-E", "UTF8")
    run(
        pg_ctl, "-D", str(data), "-l", str(root / "log"), "-w", "-t", "30", "start",
        "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
    )  # fmt: skip
    try:
        yield f"postgresql+asyncpg://howl@127.0.0.1:{port}/postgres", root / "log"
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)
