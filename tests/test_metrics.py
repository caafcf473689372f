"""`GET /metrics` over real HTTP: the Prometheus text format, counters the core moves when a
member answers, request latency per route, and the outbox depth read from the database."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from adapters.server import build_app
from bot.core import Core
from bot.metrics import Metrics
from bot.okrfile.demo import load_demo
from storage.db import Database
from storage.models import Outbox

FAMILIES = {
    "okrbot_prompts_sent": "counter",
    "okrbot_prompts_failed": "counter",
    "okrbot_possible_duplicates": "counter",
    "okrbot_replies_parsed": "counter",
    "okrbot_updates_saved": "counter",
    "okrbot_request_seconds": "histogram",
    "okrbot_outbox_rows": "gauge",
}


async def scrape(client: TestClient) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics by (name, sorted labels)."""
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def test_metrics_parse_and_name_every_family(db):
    async with TestClient(TestServer(build_app(db))) as client:  # no Metrics passed: its own
        response = await client.get("/metrics")
        families = {f.name: f.type for f in text_string_to_metric_families(await response.text())}
    assert {name: families.get(name) for name in FAMILIES} == FAMILIES


async def test_a_check_in_reply_moves_the_counters(db, now, clock):
    async with db.transaction() as session:
        await load_demo(session, now)
    metrics = Metrics()
    core = Core(db, clock, metrics)
    jonas = await core.person(handle="jonas")
    async with TestClient(TestServer(build_app(db, metrics=metrics))) as client:
        before = await scrape(client)
        assert before[("okrbot_replies_parsed_total", (("status", "updates"),))] == 0

        await core.direct_message(
            jonas, "subscribers 4300, share 18%", platform="slack", external_id="Ev1"
        )
        await core.direct_message(jonas, "5000", platform="slack", external_id="Ev2")  # which?
        await core.direct_message(jonas, "la la la", platform="slack", external_id="Ev3")
        after = await scrape(client)

    def moved(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0)

    assert moved("okrbot_replies_parsed_total", status="updates") == 1
    assert moved("okrbot_replies_parsed_total", status="clarify") == 1
    assert moved("okrbot_replies_parsed_total", status="unrecognized") == 1
    assert moved("okrbot_updates_saved_total", source="dm") == 2  # two key results
    assert moved("okrbot_updates_saved_total", source="form") == 0


async def test_request_latency_is_kept_per_route_pattern(db):
    metrics = Metrics()
    async with TestClient(TestServer(build_app(db, metrics=metrics))) as client:
        for _ in range(3):
            assert (await client.get("/healthz")).status == 200
        assert (await client.get("/no/such/page/42")).status == 404
        samples = await scrape(client)
    count = {
        dict(labels)["route"]: value
        for (name, labels), value in samples.items()
        if name == "okrbot_request_seconds_count"
    }
    assert count["/healthz"] == 3
    assert count["unmatched"] == 1
    assert not [route for route in count if "42" in route]  # patterns, never concrete paths
    assert samples[("okrbot_request_seconds_sum", (("route", "/healthz"),))] > 0


async def test_outbox_depth_is_read_from_the_database_at_each_scrape(db, now):
    states = ["pending", "pending", "sending", "failed", "sent", "sent", "sent"]
    async with db.transaction() as session:
        for n, state in enumerate(states):
            session.add(
                Outbox(
                    kind="prompt", target=f"p{n}", period="2026-W47", state=state, created_at=now
                )
            )
    async with TestClient(TestServer(build_app(db))) as client:
        samples = await scrape(client)
        depth = {
            dict(labels)["state"]: value
            for (name, labels), value in samples.items()
            if name == "okrbot_outbox_rows"
        }
        assert depth == {"pending": 2, "sending": 1, "failed": 1, "sent": 3}

        async with db.transaction() as session:
            session.add(Outbox(kind="prompt", target="late", period="2026-W47", created_at=now))
        samples = await scrape(client)
        assert samples[("okrbot_outbox_rows", (("state", "pending"),))] == 3


async def test_metrics_answer_without_outbox_figures_when_the_database_is_down():
    down = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    metrics = Metrics()
    metrics.prompt_sent("slack", "prompt")
    try:
        async with TestClient(TestServer(build_app(down, metrics=metrics))) as client:
            samples = await scrape(client)
    finally:
        await down.dispose()
    assert not [key for key in samples if key[0] == "okrbot_outbox_rows"]
    labels = (("kind", "prompt"), ("platform", "slack"))
    assert samples[("okrbot_prompts_sent_total", labels)] == 1


async def test_delivery_counters_are_labelled_by_platform_and_kind():
    metrics = Metrics()
    metrics.prompt_sent("slack", "prompt")
    metrics.prompt_sent("slack", "prompt")
    metrics.prompt_sent("teams", "exec_digest")
    metrics.prompt_failed("teams", "reminder")
    metrics.possible_duplicate("teams")
    metrics.update_saved("api", 3)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(metrics.render().decode())
        for s in f.samples
    }
    assert samples[("okrbot_prompts_sent_total", (("kind", "prompt"), ("platform", "slack")))] == 2
    assert (
        samples[("okrbot_prompts_sent_total", (("kind", "exec_digest"), ("platform", "teams")))]
        == 1
    )
    failed = ("okrbot_prompts_failed_total", (("kind", "reminder"), ("platform", "teams")))
    assert samples[failed] == 1
    assert samples[("okrbot_possible_duplicates_total", (("platform", "teams"),))] == 1
    assert samples[("okrbot_updates_saved_total", (("source", "api"),))] == 3
    assert Metrics().registry is not metrics.registry  # each owns its registry
