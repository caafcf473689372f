"""What the HTTP benchmarks of okrbot against a bare server share (bench/slack_command.py,
bench/teams_command.py): the database, the helper processes, the alternating rounds, the
figures and the report's common lines. Not a script of its own."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
READY = "READY"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0


def progress(text: str) -> None:
    print(f"  … {text}", file=sys.stderr, flush=True)


# ---- options ---------------------------------------------------------------------------------


def add_organisation_options(parser: argparse.ArgumentParser) -> None:
    """--teams, --key-results, --updates and --seed."""
    parser.add_argument("--teams", type=int, default=100, help="teams under `company`")
    parser.add_argument("--key-results", type=int, default=2_000)
    parser.add_argument("--updates", type=int, default=50_000, help="key-result updates")
    parser.add_argument("--seed", type=int, default=47)


# ---- the helper processes' side ----------------------------------------------------------------


async def until_stopped(parent: int) -> None:
    """Until SIGTERM / SIGINT, or until the benchmark that started us is gone."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    while not stop.is_set() and os.getppid() == parent:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


def announce_ready(port: int) -> None:
    """The `READY <port>` line that Processes.ready_port waits for."""
    print(f"{READY} {port}", flush=True)


async def serve_bare(app: Any, parent: int) -> None:
    """Serve an aiohttp app (plus `GET /healthz`) on a free local port, without access log,
    until stopped."""
    from aiohttp import web

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        announce_ready(runner.addresses[0][1])
        await until_stopped(parent)
    finally:
        await runner.cleanup()


# ---- process handling ----------------------------------------------------------------------


class Processes:
    """The servers this benchmark starts; all stopped (TERM, then KILL) on leaving."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.started: list[tuple[str, subprocess.Popen, Path]] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop_all()

    def start(self, name: str, cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
        log = self.logdir / f"{name}.stderr"
        with log.open("wb") as err:
            proc = subprocess.Popen(
                cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=err,
            )  # fmt: skip
        self.started.append((name, proc, log))
        return proc

    def stderr_of(self, proc: subprocess.Popen) -> str:
        for _name, p, log in self.started:
            if p is proc:
                return log.read_text(encoding="utf-8", errors="replace")
        return ""

    def stderr_lines(self, named: Sequence[tuple[str, subprocess.Popen]]) -> dict[str, list[str]]:
        return {name: self.stderr_of(proc).strip().splitlines() for name, proc in named}

    def failed(self, name: str, proc: subprocess.Popen, why: str) -> SystemExit:
        tail = "\n".join(self.stderr_of(proc).strip().splitlines()[-15:])
        return SystemExit(f"{name} {why} (exit code {proc.poll()}); its stderr:\n{tail}")

    def ready_port(self, name: str, proc: subprocess.Popen) -> int:
        """Wait for the `READY <port>` line of one of our helper processes."""
        assert proc.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if sel.select(timeout=0.2):
                    line = proc.stdout.readline().decode().strip()
                    if line.startswith(READY):
                        return int(line.split()[1])
                    if not line and proc.poll() is not None:
                        break
                elif proc.poll() is not None:
                    break
        raise self.failed(name, proc, "did not start")

    def start_okrbot(self, env: dict[str, str], cwd: Path) -> tuple[int, subprocess.Popen]:
        """`okrbot serve` on a free port, with `child_env(env)`; its port and process."""
        port = free_port()
        proc = self.start(
            "okrbot-serve",
            [okrbot_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            child_env(env),
            cwd,
        )
        return port, proc

    def run(self, drive: Awaitable[Any], watched: Sequence[tuple[str, subprocess.Popen]]) -> Any:
        """Run the load; if it gives up while one of `watched` is gone, say that instead."""
        try:
            return asyncio.run(drive)
        except SystemExit:
            for name, proc in watched:
                if proc.poll() is not None:
                    raise self.failed(name, proc, "exited") from None
            raise

    def stop_all(self) -> None:
        for _name, proc, _log in reversed(self.started):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _name, proc, _log in reversed(self.started):
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment of a server: ours without settings that would change what runs."""
    drop = ("OKRBOT_", "SLACK_", "MICROSOFT_", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


def okrbot_executable() -> str:
    beside = Path(sys.executable).parent / "okrbot"
    if beside.exists():
        return str(beside)
    raise SystemExit(f"no okrbot next to {sys.executable}: install the project (pip install -e .)")


def stop_on_sigterm() -> None:
    """SIGTERM ends the run like Ctrl-C: the servers are stopped on the way out."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def print_stderr(logs: dict[str, list[str]]) -> None:
    for name, lines in logs.items():
        if lines:
            print(f"{name} wrote {len(lines)} line(s) on stderr, e.g.: {lines[0][:200]}")


# ---- the database --------------------------------------------------------------------------


@dataclass
class Database:
    url: str
    data: dict[str, Any]  # the OKR file, parsed
    key_results: int
    updates: int


async def _fill(url: str, path: Path, updates: int, seed: int) -> int:
    from bench.organisation import IMPORTED_AT, seed_updates
    from bot.okrfile.importer import import_document
    from bot.okrfile.schema import load_okr_file
    from storage.db import Database as Db

    db = Db(url)
    try:
        doc = load_okr_file(path)
        async with db.transaction() as session:
            await import_document(session, doc, now=IMPORTED_AT)
        return await seed_updates(db, updates, seed) if updates else 0
    finally:
        await db.dispose()


def build_database(workdir: Path, args: argparse.Namespace) -> Database:
    """A SQLite database with the benchmarks' organisation and its check-in history."""
    import yaml

    from bench.organisation import build_org
    from storage.db import upgrade

    org = build_org(args.teams, args.key_results, args.seed)
    path = workdir / "okrs.yaml"
    path.write_text(org.text, encoding="utf-8")
    url = f"sqlite:///{workdir / 'okrbot.db'}"
    upgrade(url)
    n_updates = asyncio.run(_fill(url, path, args.updates, args.seed))
    return Database(url, yaml.safe_load(org.text), org.key_results, n_updates)


# ---- the load ------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    url: str  # http://127.0.0.1:port
    proc: subprocess.Popen


@dataclass
class Round:
    server: str
    number: int  # 0: the warm-up
    errors: Counter = field(default_factory=Counter)
    started: float = 0.0  # monotonic
    seconds: float = 0.0


def client_session(concurrency: int, timeout_s: float) -> Any:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    return aiohttp.ClientSession(connector=connector, timeout=timeout)


async def wait_healthy(http: Any, server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            break
        with contextlib.suppress(Exception):
            async with http.get(f"{server.url}/healthz") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.1)
    raise SystemExit(f"{server.name} did not answer /healthz in {START_TIMEOUT_S:g} s")


@dataclass
class Post:
    key: str
    sent_at: float  # monotonic
    ms: float
    status: int | str  # the HTTP status, or the name of the exception


async def post_all(
    http: Any, url: str, bodies: list[tuple[str, bytes]],
    headers: Callable[[bytes], dict[str, str]], concurrency: int, result: Round,
) -> list[Post]:  # fmt: skip
    """POST the bodies at `concurrency` in flight and time each; sets `result.started` and
    `result.seconds`."""
    pending = iter(bodies)
    posts: list[Post] = []

    async def worker() -> None:
        for key, body in pending:
            sent_headers = headers(body)
            t0 = time.monotonic()
            try:
                async with http.post(url, data=body, headers=sent_headers) as response:
                    await response.read()
                    status: int | str = response.status
            except Exception as exc:  # noqa: BLE001 - a failed request is a figure, not a crash
                status = type(exc).__name__
            t1 = time.monotonic()
            posts.append(Post(key, t0, (t1 - t0) * 1000, status))

    result.started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.monotonic() - result.started
    return posts


def check_alive(server: Server, number: int) -> None:
    if server.proc.poll() is not None:
        raise SystemExit(f"{server.name} exited during round {number} ({server.proc.poll()})")


async def alternate(
    servers: list[Server], rounds: int, run: Callable[[Any, int], Awaitable[Round]]
) -> list[Round]:
    """The measured rounds: okrbot first in odd rounds, the bare server first in even ones."""
    results: list[Round] = []
    for number in range(1, rounds + 1):
        order = servers if number % 2 else servers[::-1]
        progress(f"round {number}/{rounds}: {' then '.join(s.name for s in order)}")
        for server in order:
            results.append(await run(server, number))
    return results
