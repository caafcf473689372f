"""Prometheus metrics, served at `GET /metrics`.

One `Metrics` object per process, made by the composition root and passed to whatever counts
(the core, the delivery worker, the HTTP server); each owns its registry, so nothing here is a
module-level global and tests get fresh counters.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OUTBOX_STATES, Outbox

CONTENT_TYPE = CONTENT_TYPE_LATEST
REPLY_STATUSES = ("updates", "no_change", "skip", "clarify", "unrecognized")
UPDATE_SOURCES = ("dm", "button", "form", "command", "api", "import")
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self._prompts_sent = Counter(
            "okrbot_prompts_sent",
            "Outbox messages (prompts, reminders, digests) delivered, by platform and kind.",
            ("platform", "kind"),
            registry=r,
        )
        self._prompts_failed = Counter(
            "okrbot_prompts_failed",
            "Outbox messages that failed for good, by platform and kind.",
            ("platform", "kind"),
            registry=r,
        )
        self._possible_duplicates = Counter(
            "okrbot_possible_duplicates",
            "Sends retried after an unknown outcome that may have reached the person twice.",
            ("platform",),
            registry=r,
        )
        self._replies_parsed = Counter(
            "okrbot_replies_parsed",
            "Check-in replies read, by what the parser made of them.",
            ("status",),
            registry=r,
        )
        self._updates_saved = Counter(
            "okrbot_updates_saved",
            "Key-result updates saved, by source (dm, button, form, command, api, import).",
            ("source",),
            registry=r,
        )
        self._request_seconds = Histogram(
            "okrbot_request_seconds",
            "HTTP request latency, by route.",
            ("route",),
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self._outbox_rows = Gauge(
            "okrbot_outbox_rows",
            "Outbox rows by state, read from the database when scraped.",
            ("state",),
            registry=r,
        )
        for status in REPLY_STATUSES:
            self._replies_parsed.labels(status=status)
        for source in UPDATE_SOURCES:
            self._updates_saved.labels(source=source)

    # -- counting ----------------------------------------------------------------------------
    def prompt_sent(self, platform: str, kind: str) -> None:
        self._prompts_sent.labels(platform=platform, kind=kind).inc()

    def prompt_failed(self, platform: str, kind: str) -> None:
        self._prompts_failed.labels(platform=platform, kind=kind).inc()

    def possible_duplicate(self, platform: str) -> None:
        self._possible_duplicates.labels(platform=platform).inc()

    def reply_parsed(self, status: str) -> None:
        self._replies_parsed.labels(status=status).inc()

    def update_saved(self, source: str, n: int = 1) -> None:
        if n:
            self._updates_saved.labels(source=source).inc(n)

    def observe_request(self, route: str, seconds: float) -> None:
        self._request_seconds.labels(route=route).observe(seconds)

    # -- gauges read at scrape time --------------------------------------------------------
    def set_outbox_rows(self, counts: dict[str, int]) -> None:
        """Every known state is shown (0 when empty); a state no longer present disappears."""
        self._outbox_rows.clear()
        for state in (*OUTBOX_STATES, *counts):
            self._outbox_rows.labels(state=state).set(counts.get(state, 0))

    def outbox_unknown(self) -> None:
        """The database did not answer: no outbox figures rather than stale ones."""
        self._outbox_rows.clear()

    async def refresh_outbox(self, session: AsyncSession) -> None:
        query = select(Outbox.state, func.count()).group_by(Outbox.state)
        rows = await session.execute(query)
        self.set_outbox_rows({state: count for state, count in rows})

    # -- exposition --------------------------------------------------------------------------
    def render(self) -> bytes:
        """The Prometheus text format (`CONTENT_TYPE`)."""
        return generate_latest(self.registry)
