"""The one HTTP app (aiohttp). Platform endpoints are mounted here by their adapters;
`GET /healthz` answers whether the process and its database are usable."""

from __future__ import annotations

import logging

from aiohttp import web

from storage.db import Database

log = logging.getLogger("okrbot.server")
DB_KEY = web.AppKey("db", Database)


async def healthz(request: web.Request) -> web.Response:
    ok = await request.app[DB_KEY].ping()
    body = {"status": "ok" if ok else "unavailable", "database": "ok" if ok else "unreachable"}
    return web.json_response(body, status=200 if ok else 503)


def build_app(db: Database, *mounts) -> web.Application:
    """The HTTP app; each platform adapter passed in mounts its own endpoint."""
    app = web.Application()
    app[DB_KEY] = db
    app.router.add_get("/healthz", healthz)
    for adapter in mounts:
        adapter.mount(app)
    return app


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start listening; the caller keeps the runner and calls `cleanup()` to stop."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("listening on http://%s:%s", host, port)
    return runner
