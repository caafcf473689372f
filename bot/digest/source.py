"""What the delivery worker posts for a digest row: the channel and the digest's parts, built
from one snapshot of the database at delivery time."""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.delivery import DigestParts
from bot.digest.content import exec_digest, team_digest
from storage.db import Database
from storage.digest_queries import digest_snapshot

log = logging.getLogger("okrbot.digests")
EXEC_DIGEST, TEAM_DIGEST = "exec_digest", "team_digest"


def chart_or_none(chart) -> bytes | None:
    """The chart PNG; the text stands on its own when drawing fails."""
    from bot.digest.chart import chart_png

    try:
        return chart_png(chart)
    except Exception:
        log.exception("the digest chart could not be drawn")
        return None


def digest_source(db: Database, clock: Clock):
    async def source(kind: str, target: str) -> tuple[str, DigestParts] | None:
        now = clock()
        async with db.session() as session:
            try:
                snapshot = await digest_snapshot(session, now)
            except LookupError:
                return None
        if kind == EXEC_DIGEST:
            channel = snapshot.organization.exec_channel
            if not channel:
                return None
            digest = exec_digest(snapshot, now)
            parts = DigestParts(
                headline=digest.headline,
                replies=[(part.slug, part.message) for part in digest.teams],
                chart_png=chart_or_none(digest.chart),
                chart_title=digest.chart.title,
            )
            return channel, parts
        team = next((tm for tm in snapshot.teams if tm.slug == target), None)
        if team is None or not team.channel:
            return None
        return team.channel, DigestParts(headline=team_digest(snapshot, target, now))

    return source
