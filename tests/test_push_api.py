"""The push API (SPEC §7 `POST /api/v1/key-results/{id}/value`) over real HTTP: the app of
adapters/server.py with adapters/api.py mounted, on a local port, against the demo organisation
on SQLite and PostgreSQL.

The demo at `now` = Sunday 2026-11-22 11:00 UTC (12:00 Copenhagen): MKT-1.2 "Email subscribers
from in-store receipts" (owner jonas) goes 2000 -> 10000, now 4100, at risk, updated 10 Nov.
MKT-1.4 is binary, never updated; RET-1.3 is a milestone at 60.
Pushing 4500: progress (4500 - 2000) / 8000 = 0.3125 -> 31 %.
"""

from __future__ import annotations

import json

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update

from adapters.api import PushApi
from adapters.server import build_app
from bot.core import Core
from bot.messages import render_text
from bot.okrfile.demo import load_demo
from bot.ops.push import COMMENT_MAX, PushService
from storage.models import KeyResult, KeyResultUpdate

TOKEN = "s3cret-token-for-the-crm-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def demo(db, clock, now):
    async with db.transaction() as session:
        await load_demo(session, now)
    return db


def api(db, clock, token: str | None = TOKEN) -> TestClient:
    return TestClient(TestServer(build_app(db, PushApi(PushService(db, clock), token=token))))


async def kr(db, key: str) -> KeyResult:
    async with db.session() as session:
        return (await session.execute(select(KeyResult).where(KeyResult.key == key))).scalar_one()


async def history_count(db) -> int:
    async with db.session() as session:
        return (await session.execute(select(func.count(KeyResultUpdate.id)))).scalar_one()


async def newest_update(db, key: str) -> KeyResultUpdate:
    row = await kr(db, key)
    async with db.session() as session:
        query = (
            select(KeyResultUpdate)
            .where(KeyResultUpdate.key_result_id == row.id)
            .order_by(KeyResultUpdate.id.desc())
            .limit(1)
        )
        return (await session.execute(query)).scalar_one()


async def test_a_push_is_recorded_with_source_api_and_answered(demo, clock, now):
    before = await history_count(demo)
    async with api(demo, clock) as client:
        response = await client.post(
            "/api/v1/key-results/MKT-1.2/value",
            json={"value": 4500, "health": "on_track", "comment": "from CRM"},
            headers=AUTH,
        )
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.json() == {
            "id": "MKT-1.2",
            "title": "Email subscribers from in-store receipts",
            "value": 4500,
            "previous_value": 4100,
            "unit": None,
            "progress": 0.3125,
            "progress_percent": 31,
            "health": "on_track",
            "updated_at": "2026-11-22T11:00:00Z",
        }
    assert await history_count(demo) == before + 1
    row = await newest_update(demo, "MKT-1.2")
    assert (row.source, row.person_id, row.old_value, row.new_value) == ("api", None, 4100, 4500)
    assert (row.health, row.comment, row.old_health) == ("on_track", "from CRM", "at_risk")
    assert row.created_at == now and row.batch_id and row.raw_reply_id is None
    current = await kr(demo, "MKT-1.2")
    assert (current.current, current.health, current.updated_at) == (4500, "on_track", now)
    assert (current.updated_by_id, current.updated_source) == (None, "api")


async def test_a_pushed_value_shows_in_the_team_answer_and_the_history(demo, clock):
    async with api(demo, clock) as client:
        response = await client.post(
            "/api/v1/key-results/MKT-1.2/value",
            json={"value": 4500, "comment": "from CRM"},
            headers=AUTH,
        )
        assert response.status == 200
        assert (await response.json())["health"] == "at_risk"  # no health given: kept
    core = Core(demo, clock)
    mette = await core.person(handle="mette")
    team = render_text(await core.command(mette, "okr marketing"))
    block = team[team.index("MKT-1.2 ") :].splitlines()[:3]
    assert "31%  4,500 / 10,000" in block[1] and "at risk" in block[1]
    assert block[2].strip() == "Jonas Krogh · updated today by API"
    history = render_text(await core.command(mette, "okr history MKT-1.2"))
    lines = history.splitlines()
    assert lines[0] == "MKT-1.2 Email subscribers from in-store receipts: history"
    newest = next(line for line in lines[1:] if line.strip() and not line.startswith("="))
    assert newest == "22 Nov 2026 · API · 4,100 → 4,500 · “from CRM”"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": "Bearer "},
    ],
    ids=["missing", "wrong", "longer", "basic", "no-scheme", "empty"],
)
async def test_no_or_a_wrong_token_is_401_and_changes_nothing(demo, clock, headers):
    before = await history_count(demo)
    async with api(demo, clock) as client:
        response = await client.post(
            "/api/v1/key-results/MKT-1.2/value", json={"value": 4500}, headers=headers
        )
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await response.json())["error"] == "unauthorized"
        # an unknown key result is not revealed to a caller without the token either
        response = await client.post(
            "/api/v1/key-results/NOPE-1/value", json={"value": 1}, headers=headers
        )
        assert response.status == 401
    assert await history_count(demo) == before
    assert (await kr(demo, "MKT-1.2")).current == 4100


async def test_the_scheme_word_is_case_insensitive(demo, clock):
    async with api(demo, clock) as client:
        response = await client.post(
            "/api/v1/key-results/mkt-1.2/value",
            json={"value": 4200},
            headers={"Authorization": f"bearer {TOKEN}"},
        )
        assert response.status == 200
        assert (await response.json())["id"] == "MKT-1.2"


async def test_unknown_and_archived_key_results_are_404(demo, clock):
    async with demo.transaction() as session:
        await session.execute(
            update(KeyResult).where(KeyResult.key == "MKT-1.5").values(archived=True)
        )
    before = await history_count(demo)
    async with api(demo, clock) as client:
        for key in ("NOPE-9.9", "MKT-1.5"):
            response = await client.post(
                f"/api/v1/key-results/{key}/value", json={"value": 20}, headers=AUTH
            )
            assert response.status == 404
            body = await response.json()
            assert body == {"error": "not_found", "message": f"there is no key result '{key}'"}
    assert await history_count(demo) == before


BAD_BODIES = [
    (b"not json", "the body is not JSON"),
    (b"", "the body is not JSON"),
    (b"[4500]", 'the body must be a JSON object like {"value": 4100}'),
    (b"{}", "'value' is required"),
    (b'{"value": null}', "'value' is required"),
    (b'{"value": "4500"}', "'value' must be a number"),
    (b'{"value": NaN}', "'value' must be a finite number"),
    (b'{"value": Infinity}', "'value' must be a finite number"),
    (b'{"value": 1e999}', "'value' must be a finite number"),
    (b'{"value": 4500, "health": "green"}', "'health' must be one of on_track, at_risk, "),
    (b'{"value": 4500, "comment": 7}', "'comment' must be a string"),
    (
        json.dumps({"value": 4500, "comment": "x" * (COMMENT_MAX + 1)}).encode(),
        f"'comment' is longer than {COMMENT_MAX} characters",
    ),
    (b'{"value": 4500, "heath": "on_track"}', "unknown field 'heath'"),
    (b'{"value": true}', "MKT-1.2 is a metric key result: send a number"),
]


async def test_a_bad_body_is_422_with_the_reason_and_changes_nothing(demo, clock):
    before = await history_count(demo)
    async with api(demo, clock) as client:
        for body, reason in BAD_BODIES:
            response = await client.post(
                "/api/v1/key-results/MKT-1.2/value",
                data=body,
                headers={**AUTH, "Content-Type": "application/json"},
            )
            assert response.status == 422, body
            answer = await response.json()
            assert answer["error"] == "invalid"
            assert answer["message"].startswith(reason), (body, answer)
    assert await history_count(demo) == before
    assert (await kr(demo, "MKT-1.2")).current == 4100


async def test_binary_and_milestone_values_follow_their_type(demo, clock):
    async with api(demo, clock) as client:

        async def push(key: str, body: dict):
            response = await client.post(
                f"/api/v1/key-results/{key}/value", json=body, headers=AUTH
            )
            return response.status, await response.json()

        status, answer = await push("MKT-1.4", {"value": 2})
        assert status == 422 and answer["message"].startswith("MKT-1.4 is done or not")
        status, answer = await push("RET-1.3", {"value": 101})
        assert status == 422 and answer["message"].startswith("RET-1.3 is a milestone")
        status, answer = await push("MKT-1.4", {"value": True, "health": "on_track"})
        assert status == 200
        assert (answer["value"], answer["progress"], answer["progress_percent"]) == (1, 1.0, 100)
        status, answer = await push("RET-1.3", {"value": 72.5})
        assert status == 200
        assert (answer["value"], answer["previous_value"], answer["progress_percent"]) == (
            72.5,
            60,
            73,
        )
        status, answer = await push("MKT-1.4", {"value": 0})
        assert status == 200 and answer["progress"] == 0.0
    assert (await newest_update(demo, "MKT-1.4")).old_value == 1


@pytest.mark.parametrize("token", [None, ""])
async def test_without_a_token_the_api_is_off(demo, clock, token):
    before = await history_count(demo)
    async with api(demo, clock, token=token) as client:
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer anything"}):
            response = await client.post(
                "/api/v1/key-results/MKT-1.2/value", json={"value": 4500}, headers=headers
            )
            assert response.status == 404
            assert (await response.json())["error"] == "api_off"
        health = await client.get("/healthz")
        assert health.status == 200  # the rest of the server is unaffected
    assert await history_count(demo) == before


async def test_pushed_updates_are_counted_in_the_metrics(demo, clock):
    from bot.metrics import Metrics

    metrics = Metrics()
    service = PushService(demo, clock, metrics)
    app = build_app(demo, PushApi(service, token=TOKEN), metrics=metrics)
    async with TestClient(TestServer(app)) as client:
        for value in (4200, 4300):
            response = await client.post(
                "/api/v1/key-results/MKT-1.2/value", json={"value": value}, headers=AUTH
            )
            assert response.status == 200
        refused = await client.post("/api/v1/key-results/MKT-1.2/value", json={"value": "x"})
        assert refused.status == 401
        text = await (await client.get("/metrics")).text()
    assert 'okrbot_updates_saved_total{source="api"} 2.0' in text
