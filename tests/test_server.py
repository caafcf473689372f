"""The HTTP server: `okrbot serve` answers /healthz over real HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from aiohttp.test_utils import TestClient, TestServer

from adapters.server import build_app
from storage.db import Database


async def test_healthz_ok_when_the_database_answers(db):
    async with TestClient(TestServer(build_app(db))) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        assert await response.json() == {"status": "ok", "database": "ok"}


async def test_healthz_503_when_the_database_is_down():
    down = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    try:
        async with TestClient(TestServer(build_app(down))) as client:
            response = await client.get("/healthz")
            assert response.status == 503
            assert (await response.json())["database"] == "unreachable"
    finally:
        await down.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_okrbot_serve_listens_and_stops_on_sigterm(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}", OKRBOT_LOG_LEVEL="WARNING")
    okrbot = str(Path(sys.executable).parent / "okrbot")
    proc = subprocess.Popen(
        [okrbot, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "okrbot serve did not start"
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok"}
        assert (tmp_path / "serve.db").exists()  # migrated at start
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
