"""The one HTTP app (aiohttp). Platform endpoints are mounted here by their adapters;
`GET /healthz` answers whether the process and its database are usable, `GET /metrics` gives
Prometheus metrics (request latency per route, outbox depth read at scrape time)."""

from __future__ import annotations

import logging
import time

from aiohttp import web

from bot.metrics import CONTENT_TYPE, Metrics
from storage.db import Database

log = logging.getLogger("okrbot.server")
DB_KEY = web.AppKey("db", Database)
METRICS_KEY = web.AppKey("metrics", Metrics)


async def healthz(request: web.Request) -> web.Response:
    ok = await request.app[DB_KEY].ping()
    body = {"status": "ok" if ok else "unavailable", "database": "ok" if ok else "unreachable"}
    return web.json_response(body, status=200 if ok else 503)


async def metrics_endpoint(request: web.Request) -> web.Response:
    metrics = request.app[METRICS_KEY]
    try:
        async with request.app[DB_KEY].session() as session:
            await metrics.refresh_outbox(session)
    except Exception as exc:  # the metrics still answer; the outbox gauge is left out
        log.warning("metrics: cannot read the outbox: %s", type(exc).__name__)
        metrics.outbox_unknown()
    return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})


def _route(request: web.Request) -> str:
    """The route's pattern (`/api/v1/key-results/{id}/value`), never the concrete path."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def _timing(metrics: Metrics):
    @web.middleware
    async def timing(request: web.Request, handler):
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            metrics.observe_request(_route(request), time.perf_counter() - started)

    return timing


def build_app(db: Database, *mounts, metrics: Metrics | None = None) -> web.Application:
    """The HTTP app; each platform adapter passed in mounts its own endpoint. Pass the
    process's `Metrics` (the one the core counts into) to serve its figures."""
    metrics = metrics if metrics is not None else Metrics()
    app = web.Application(middlewares=[_timing(metrics)])
    app[DB_KEY] = db
    app[METRICS_KEY] = metrics
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_endpoint)
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
