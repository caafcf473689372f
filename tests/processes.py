"""The `okrbot` command as a real subprocess, for the tests that run it as a user would."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

OKRBOT = str(Path(sys.executable).with_name("okrbot"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def okrbot(*args: str, env: dict, cwd: Path) -> tuple[int, str, str]:
    """Run `okrbot ARGS` to its end: (exit code, stdout, stderr)."""
    pipe = asyncio.subprocess.PIPE
    process = await asyncio.create_subprocess_exec(
        OKRBOT, *args, env=env, cwd=cwd, stdout=pipe, stderr=pipe
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode, out.decode(), err.decode()


def cli_env(tmp_path: Path) -> dict:
    """The environment of a user's shell with no platform configured and a SQLite file."""
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "OKRBOT_"))
    }
    clean.update(DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}", OKRBOT_LOG_LEVEL="WARNING")
    return clean


def run_okrbot(*args: str, env: dict, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess:
    """Run `okrbot ARGS` to its end (blocking), text in and out."""
    return subprocess.run(
        [OKRBOT, *args], input=stdin, capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )
