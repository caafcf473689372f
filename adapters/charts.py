"""`GET /charts/<id>.png`: the digest charts that Teams cards show by URL (SPEC §8). The ids
are random and unguessable; a chart holds progress figures only."""

from __future__ import annotations

import secrets

from aiohttp import web

from bot.clock import Clock
from storage.db import Database
from storage.models import Chart


class ChartRoutes:
    def __init__(self, db: Database) -> None:
        self.db = db

    def mount(self, http: web.Application) -> None:
        http.router.add_get("/charts/{chart_id}.png", self.get)

    async def get(self, request: web.Request) -> web.Response:
        async with self.db.session() as session:
            chart = await session.get(Chart, request.match_info["chart_id"])
        if chart is None:
            raise web.HTTPNotFound(text="no such chart")
        return web.Response(
            body=chart.png,
            content_type="image/png",
            headers={"Cache-Control": "private, max-age=604800"},
        )


async def store_chart(db: Database, clock: Clock, png: bytes) -> str:
    """Keep a chart for its URL; returns its id."""
    chart_id = secrets.token_urlsafe(18)
    async with db.transaction() as session:
        session.add(Chart(id=chart_id, png=png, created_at=clock()))
    return chart_id
