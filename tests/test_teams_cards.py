"""Teams' look of the core's answers (adapters/teams/cards.py): Adaptive Cards built from real
answers of the core on the demo organisation, every one validated against the official Adaptive
Cards 1.5 JSON Schema (tests/schemas/adaptive-card-1.5.json, tightened by `strict_schema`) and
against Teams' size limit.

Demo facts used (see tests/test_commands.py): MKT-1.1 is Anna's, 5 of 12 campaigns (42%), on
track; MKT-1.2 is 4,100 of 10,000 at risk; MKT-1.4 (binary, not done, no health) is flagged ⚠;
Anna's locale is Danish, Mette's English; the week is 2026-W47.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import jsonschema
import pytest

from adapters.teams.cards import (
    CARD_BUDGET,
    CARD_VERSION,
    CONTENT_TYPE,
    EM_SPACE,
    MESSAGE_LIMIT,
    SCHEMA_URL,
    attachment,
    card_values,
    fallback_text,
    message_card,
    message_cards,
    payload_size,
    prompt_card,
    prompt_cards,
)
from bot.core import Core
from bot.messages import (
    Action,
    Form,
    FormField,
    Message,
    ProgressRow,
    Section,
    progress_bar,
    render_text,
)
from bot.okrfile.demo import load_demo

SCHEMA_PATH = Path(__file__).parent / "schemas" / "adaptive-card-1.5.json"

# --- the validator -------------------------------------------------------------------------------


def strict_schema() -> dict:
    """The official 1.5 schema, tightened: enumerated values only in their exact spelling (the
    schema also lets case-insensitive, loosely anchored patterns through), and a card must
    declare version 1.5, the schema URL and a body. Every element definition in it already has
    `additionalProperties: false`, so a misspelt property fails."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    for definition in schema["definitions"].values():
        options = definition.get("anyOf", [])
        if any("enum" in o for o in options) and any("pattern" in o for o in options):
            definition["anyOf"] = [o for o in options if "pattern" not in o]
    card = schema["definitions"]["AdaptiveCard"]
    card["required"] = ["type", "version", "body"]
    card["properties"]["version"] = {"const": CARD_VERSION}
    card["properties"]["$schema"] = {"const": SCHEMA_URL}
    return schema


SCHEMA = strict_schema()
jsonschema.Draft6Validator.check_schema(SCHEMA)
VALIDATOR = jsonschema.Draft6Validator(SCHEMA)


def walk(value) -> Iterator[dict]:
    """Every object inside a card (elements, columns, actions, choices, ...), depth first."""
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from walk(child)


def schema_errors(card) -> list[str]:
    errors = sorted(VALIDATOR.iter_errors(card), key=lambda e: list(e.absolute_path))
    described = []
    for error in errors:
        deepest = error
        while deepest.context:  # anyOf: the most relevant of the alternatives' errors
            deepest = jsonschema.exceptions.best_match(deepest.context)
        path = "/".join(str(p) for p in deepest.absolute_path)
        described.append(f"{path}: {deepest.message[:300]}")
    return described


def assert_valid_card(card, *, budget: int | None = CARD_BUDGET) -> None:
    """A card Teams accepts: the schema, plus what the schema cannot say (unique input ids, our
    buttons' data, at most 6 buttons in a bar, no empty text) and, for a card meant to be sent
    alone, the size of one message."""
    errors = schema_errors(card)
    assert not errors, "\n".join(errors)
    assert card["version"] == "1.5" and card["body"], "a 1.5 card with a body"
    objects = list(walk(card))
    ids = [o["id"] for o in objects if str(o.get("type", "")).startswith("Input.")]
    assert len(set(ids)) == len(ids), f"repeated input ids in {ids}"
    for o in objects:
        kind = o.get("type")
        if kind in ("TextBlock", "TextRun"):
            assert o["text"].strip(), f"an empty {kind}"
        elif kind == "Action.Submit":
            data = o["data"]
            assert set(data) == {"okrbot", "value"}, f"our buttons' data: {data}"
            assert isinstance(data["okrbot"], str) and isinstance(data["value"], str)
            assert o["title"].strip()
        elif kind in ("AdaptiveCard", "ActionSet"):
            assert len(o.get("actions", [])) <= 6, "Teams shows at most 6 buttons in a bar"
    if budget is not None:
        assert payload_size(card) <= budget, f"{payload_size(card)} bytes > {budget}"
        activity = {"type": "message", "attachments": [attachment(card)], "summary": "x" * 200}
        assert payload_size(activity) < MESSAGE_LIMIT
        assert len(json.dumps(activity, ensure_ascii=False).encode()) < MESSAGE_LIMIT


def texts(card) -> list[str]:
    """The texts shown, in order: each TextBlock's, and each text run of a RichTextBlock (a
    row's bar line) without the spaces that separate it from the run before."""
    return [
        o["text"] if o["type"] == "TextBlock" else o["text"].strip(" ")
        for o in walk(card)
        if o.get("type") in ("TextBlock", "TextRun")
    ]


def inputs(card) -> dict[str, dict]:
    return {o["id"]: o for o in walk(card) if str(o.get("type", "")).startswith("Input.")}


def bar_actions(card) -> list[dict]:
    return [o for o in walk(card) if o.get("type") == "Action.Submit"]


def row_of(card, key: str) -> list[str]:
    """The texts of the one row (Container) whose head starts with `key`."""
    found = [
        texts(o["items"])
        for o in walk(card)
        if o.get("type") == "Container"
        and o["items"][0].get("type") == "TextBlock"
        and o["items"][0]["text"].lstrip(EM_SPACE).startswith(f"{key} ")
    ]
    assert len(found) == 1, f"{key!r} in {texts(card)}"
    return found[0]


def teams_submit(card, action_id: str, *, invoke: bool = False, **changes) -> dict:
    """The `activity.value` Teams sends when `action_id`'s button is pressed on the card as
    shown, with `changes` by input id: the button's data merged with the inputs' values as
    strings ("" when empty), or, for `invoke`, the same inside an `adaptiveCard/action`."""
    (action,) = [a for a in bar_actions(card) if a["data"]["okrbot"] == action_id]
    values = {}
    if action.get("associatedInputs") != "None":
        for input_id, element in inputs(card).items():
            value = changes.get(input_id, element.get("value"))
            values[input_id] = "" if value is None else str(value)
    data = {**action["data"], **values}
    if invoke:
        return {"action": {"type": "Action.Execute", "data": data}, "trigger": "manual"}
    return data


# --- the demo ------------------------------------------------------------------------------------


@pytest.fixture
async def core(sqlite_db, clock, now) -> Core:
    async with sqlite_db.transaction() as session:
        await load_demo(session, now)
    return Core(sqlite_db, clock)


async def person(core: Core, handle: str):
    found = await core.person(handle=handle)
    assert found is not None
    return found


def one_card(message: Message) -> dict:
    cards = message_cards(message)
    assert len(cards) == 1
    assert_valid_card(cards[0])
    assert cards[0] == message_card(message)
    return cards[0]


async def anna_checkin(core) -> tuple[object, Message, Message]:
    anna = await person(core, "anna")
    prompt = await core.checkins.prompt(anna)
    form = await core.press(anna, "checkin.form", "2026-W47")
    assert prompt.extra["kind"] == "prompt" and form.extra["kind"] == "form"
    return anna, prompt, form


# --- messages ------------------------------------------------------------------------------------


async def test_team_answer(core):
    answer = await core.command(await person(core, "mette"), "okr marketing")
    card = one_card(answer)

    assert card["type"] == "AdaptiveCard" and card["$schema"] == SCHEMA_URL
    assert card["version"] == CARD_VERSION == "1.5"
    assert card["body"][0] == {
        "type": "TextBlock",
        "text": "Marketing · 2026-Q4 · 31%",
        "wrap": True,
        "weight": "bolder",
        "size": "medium",
        "style": "heading",
    }
    assert texts(card)[1:3] == [
        "MKT-1 Turn in-store data into segmented campaigns · 31%",
        "↳ supports CO-1 Grow revenue by 20% (Nordlys)",
    ]
    assert row_of(card, "MKT-1.1") == [
        "MKT-1.1 Segmented campaigns launched",
        progress_bar(5 / 12),
        "42%",
        "5 / 12 campaigns  🟢 on track",
        "Anna Holm · updated 6 days ago",
    ]
    mkt12 = row_of(card, "MKT-1.2")
    assert "4,100 / 10,000  🟡 at risk" in mkt12 and not any("⚠" in t for t in mkt12)
    assert "not done  ⚠" in row_of(card, "MKT-1.4")
    # one row per key result, in the file's order; the note small and subtle
    heads = [t.split()[0] for t in texts(card) if t.startswith("MKT-1.")]
    assert heads == ["MKT-1.1", "MKT-1.2", "MKT-1.3", "MKT-1.4", "MKT-1.5"]
    # the bar line is one RichTextBlock: the bar monospace, the percent bold
    (line,) = [o for o in walk(card) if o.get("type") == "RichTextBlock" and "42%" in str(o)]
    bar, percent, value = line["inlines"]
    assert bar == {"type": "TextRun", "text": progress_bar(5 / 12), "fontType": "monospace"}
    assert percent == {"type": "TextRun", "text": " 42%", "weight": "bolder"}
    assert value == {"type": "TextRun", "text": "  5 / 12 campaigns  🟢 on track"}
    notes = [o for o in walk(card) if o.get("text") == "Anna Holm · updated 6 days ago"]
    assert notes[0]["isSubtle"] is True and notes[0]["size"] == "small"
    last = card["body"][-1]
    assert last["isSubtle"] is True and last["text"].startswith("57% of the period has passed")
    assert "actions" not in card


async def test_company_tree_rows_are_indented_with_their_team(core):
    tree = await core.command(await person(core, "mette"), "okr company")
    card = one_card(tree)
    mkt1 = row_of(card, "MKT-1")
    assert mkt1[0] == f"{EM_SPACE}MKT-1 Turn in-store data into segmented campaigns"
    assert mkt1[1].startswith(EM_SPACE)  # the bar, indented too
    assert mkt1[-2:] == ["⚠", "· Marketing"]  # an objective's note sits on its bar line


async def test_checkin_prompt_has_the_buttons(core):
    _, prompt, _ = await anna_checkin(core)
    card = one_card(prompt)

    assert row_of(card, "1. MKT-1.1")[1:4] == [
        progress_bar(5 / 12),
        "42 %",
        "5 / 12 campaigns  🟢 på sporet",
    ]
    assert [(a["title"], a["data"], a.get("style")) for a in card["actions"]] == [
        ("Ingen ændringer", {"okrbot": "checkin.no_change", "value": "2026-W47"}, None),
        ("Spring over denne uge", {"okrbot": "checkin.skip", "value": "2026-W47"}, None),
        ("Åbn formular", {"okrbot": "checkin.form", "value": "2026-W47"}, "positive"),
    ]
    assert not inputs(card)
    assert card["body"][-1]["isSubtle"] is True  # the hint closes the body


async def test_prompt_card_has_rows_inputs_and_buttons(core):
    _, prompt, form = await anna_checkin(core)
    card = prompt_card(prompt, form)
    assert_valid_card(card)
    assert prompt_cards(prompt, form) == [card]

    assert texts(card)[0] == "Ugentligt check-in · 2026-W47"
    assert row_of(card, "1. MKT-1.1")[:4] == [
        "1. MKT-1.1 Segmented campaigns launched",
        progress_bar(5 / 12),
        "42 %",
        "5 / 12 campaigns  🟢 på sporet",
    ]
    fields = inputs(card)
    assert list(fields) == [
        f"{key}|{part}"
        for key in ("MKT-1.1", "MKT-1.3", "MKT-1.4")
        for part in ("value", "health", "comment")
    ]
    assert fields["MKT-1.1|value"] == {
        "type": "Input.Number",
        "id": "MKT-1.1|value",
        "label": "MKT-1.1 · mål 12 campaigns",
        "isRequired": False,
        "value": 5,
    }
    assert fields["MKT-1.3|value"]["value"] == 150
    binary = fields["MKT-1.4|value"]
    assert binary["type"] == "Input.ChoiceSet" and binary["style"] == "compact"
    assert binary["choices"] == [
        {"title": "færdig", "value": "1"},
        {"title": "ikke færdig", "value": "0"},
    ]
    assert binary["value"] == "0"
    health = fields["MKT-1.1|health"]
    assert (health["type"], health["style"], health["isRequired"]) == (
        "Input.ChoiceSet",
        "compact",
        False,
    )
    assert health["label"] == "Status" and health["value"] == "on_track"
    assert [c["value"] for c in health["choices"]] == ["on_track", "at_risk", "off_track"]
    assert [c["title"] for c in health["choices"]] == ["på sporet", "i risiko", "ude af kurs"]
    assert "value" not in fields["MKT-1.4|health"]  # no health yet
    comment = fields["MKT-1.1|comment"]
    assert comment["type"] == "Input.Text" and comment["label"] == "Kommentar"
    # each key result's inputs sit in its row, after the note
    assert "MKT-1.1|value" in json.dumps(
        next(o for o in walk(card) if o.get("type") == "Container" and "1. MKT-1.1" in str(o))
    )

    assert [(a["title"], a["data"]) for a in card["actions"]] == [
        ("Gem", {"okrbot": "checkin.submit", "value": "2026-W47"}),
        ("Ingen ændringer", {"okrbot": "checkin.no_change", "value": "2026-W47"}),
        ("Spring over denne uge", {"okrbot": "checkin.skip", "value": "2026-W47"}),
    ]
    assert card["actions"][0]["style"] == "positive"
    assert [a.get("associatedInputs") for a in card["actions"]] == [None, "None", "None"]
    assert "Åbn formular" not in json.dumps(card, ensure_ascii=False)


@pytest.mark.parametrize("invoke", [False, True], ids=["message", "invoke"])
async def test_prompt_card_round_trip_saves_through_the_core(core, invoke):
    anna, prompt, form = await anna_checkin(core)
    card = prompt_card(prompt, form)

    unchanged = card_values(teams_submit(card, "checkin.submit", invoke=invoke))
    assert unchanged == (
        "checkin.submit",
        "2026-W47",
        {
            "MKT-1.1": {"value": "5", "health": "on_track", "comment": None},
            "MKT-1.3": {"value": "150", "health": "on_track", "comment": None},
            "MKT-1.4": {"value": "0", "health": None, "comment": None},
        },
    )

    submitted = teams_submit(
        card,
        "checkin.submit",
        invoke=invoke,
        **{
            "MKT-1.1|value": "6",
            "MKT-1.1|comment": "two more in the pipeline",
            "MKT-1.3|health": "at_risk",
            "MKT-1.4|value": "1",
        },
    )
    action_id, week, values = card_values(submitted)
    assert (action_id, week) == ("checkin.submit", "2026-W47")
    assert values == {
        "MKT-1.1": {"value": "6", "health": "on_track", "comment": "two more in the pipeline"},
        "MKT-1.3": {"value": "150", "health": "at_risk", "comment": None},
        "MKT-1.4": {"value": "1", "health": None, "comment": None},
    }
    outcome = await core.submit_form(anna, values)
    assert not outcome.errors
    saved = one_card(outcome.message)
    assert "6 / 12 campaigns  🟢 på sporet" in row_of(saved, "MKT-1.1")
    assert any("🟡 i risiko" in t for t in row_of(saved, "MKT-1.3"))
    assert any("færdig" in t for t in row_of(saved, "MKT-1.4"))

    # the other buttons do not carry the inputs
    assert card_values(teams_submit(card, "checkin.skip", invoke=invoke)) == (
        "checkin.skip",
        "2026-W47",
        {},
    )


def test_prompt_card_without_key_results_or_matching_rows():
    empty_form = Form("checkin.form", "Form", (), "Save", (("on_track", "on track"),))
    nothing = prompt_card(Message(text="You own no key results."), Message(form=empty_form))
    assert_valid_card(nothing)
    assert texts(nothing) == ["You own no key results."] and "actions" not in nothing

    field = FormField("K-9", "Other", "number", "3", hint="target 9")
    form = Message(title="Form", form=Form("checkin.form", "Form", (field,), "Save"))
    prompt = Message(
        title="Check-in",
        sections=(Section(rows=(ProgressRow("1. K-1", "One", 0.5, "50%", value="1 / 2"),)),),
        actions=(Action("checkin.skip", "Skip", "2026-W47"),),
        extra={"week": "2026-W47"},
    )
    card = prompt_card(prompt, form)
    assert_valid_card(card)
    assert list(inputs(card)) == ["K-9|value", "K-9|comment"]  # no health options: no health
    assert inputs(card)["K-9|value"]["label"] == "K-9 Other"  # after the rows, under "Form"
    assert texts(card)[-2:] == ["Form", "target 9"]
    assert [a["data"]["okrbot"] for a in card["actions"]] == ["checkin.submit", "checkin.skip"]


async def test_form_message_card(core):
    _, _, form = await anna_checkin(core)
    card = one_card(form)

    assert texts(card)[0] == "Check-in-formular · 2026-W47"
    assert texts(card).count("Check-in-formular · 2026-W47") == 1  # the form's title: once
    fields = inputs(card)
    assert fields["MKT-1.1|value"]["label"] == "MKT-1.1 Segmented campaigns launched"
    assert "mål 12 campaigns" in texts(card)  # the hint, under the value
    assert fields["MKT-1.4|value"]["label"] == "MKT-1.4 Loyalty programme launched"
    assert not any("/submit" in t for t in texts(card))  # the console's how-to is not here
    assert [(a["title"], a["data"]) for a in card["actions"]] == [
        ("Gem", {"okrbot": "checkin.submit", "value": "2026-W47"}),
    ]
    _, _, values = card_values(teams_submit(card, "checkin.submit"))
    assert values["MKT-1.1"] == {"value": "5", "health": "on_track", "comment": None}


async def test_confirmation_has_undo(core):
    anna = await person(core, "anna")
    saved = await core.direct_message(anna, "kampagner 6", platform="test")
    assert saved is not None and saved.extra["kind"] == "confirmation"
    card = one_card(saved)

    assert texts(card)[0] == "Gemt, tak!"
    row = row_of(card, "MKT-1.1")
    assert "6 / 12 campaigns  🟢 på sporet" in row and "50 %" in row
    assert row[-1] == "var 5 campaigns"
    (undo,) = card["actions"]
    assert undo["title"] == "Fortryd"
    assert undo["data"] == {"okrbot": "checkin.undo", "value": saved.extra["batch"]}
    assert card_values(teams_submit(card, "checkin.undo")) == (
        "checkin.undo",
        saved.extra["batch"],
        {},
    )


async def test_help_uses_a_factset(core):
    help_ = await core.command(await person(core, "mette"), "okr help")
    card = one_card(help_)
    facts = [f for o in walk(card) if o.get("type") == "FactSet" for f in o["facts"]]
    assert facts and all(set(f) == {"title", "value"} for f in facts)
    assert facts[0]["title"] == "okr <team>"
    assert facts[0]["value"].startswith("a team's objectives")
    assert all(len(o["facts"]) <= 10 for o in walk(card) if o.get("type") == "FactSet")


async def test_error_answer(core):
    answer = await core.command(await person(core, "mette"), "okr nosuch")
    assert answer.error
    card = one_card(answer)
    first = card["body"][0]
    assert "nosuch" in first["text"] and first["color"] == "attention"
    assert texts(card)[-1] == "Type `okr help` for the commands."


# --- limits --------------------------------------------------------------------------------------


def big_message(rows: int = 300, per_section: int = 50) -> Message:
    sections = tuple(
        Section(
            title=f"OBJ-{s} Objective number {s}",
            text="↳ supports CO-1 Grow revenue",
            rows=tuple(
                ProgressRow(
                    key=f"KR-{n}",
                    title=f"Key result {n} with a title of a usual length, ÆØÅ",
                    progress=n / rows,
                    percent=f"{round(100 * n / rows)}%",
                    value=f"{n} / {rows} campaigns",
                    health="at_risk" if n % 3 else "on_track",
                    health_label="at risk" if n % 3 else "on track",
                    note="Jonas Krogh · updated 2 days ago",
                    at_risk=n % 7 == 0,
                )
                for n in range(s * per_section, (s + 1) * per_section)
            ),
        )
        for s in range(rows // per_section)
    )
    return Message(
        title="Everything at once",
        text="All the key results.",
        sections=sections,
        context=("57% of the period has passed.",),
        actions=(Action("checkin.undo", "Undo", "batch-1"),),
    )


def test_a_300_row_message_becomes_several_cards():
    message = big_message()
    whole = message_card(message)
    assert_valid_card(whole, budget=None)
    assert payload_size(whole) > MESSAGE_LIMIT  # one card would not fit

    cards = message_cards(message)
    assert len(cards) >= 3
    for card in cards:
        assert_valid_card(card)
        assert payload_size(attachment(card)) < MESSAGE_LIMIT
    assert texts(cards[0])[0] == "Everything at once"
    for n, card in enumerate(cards[1:], 2):
        marker = card["body"][0]
        assert marker["text"] == f"Everything at once · {n}/{len(cards)}"
        assert marker["isSubtle"] is True and "separator" not in card["body"][1]
    heads = [t for card in cards for t in texts(card) if t.startswith("KR-")]
    assert [h.split()[0] for h in heads] == [f"KR-{n}" for n in range(300)]
    # an objective's title never ends a card without its first row
    for card in cards:
        assert not card["body"][-1].get("text", "").startswith("OBJ-")
    # the context and the buttons close the last card only
    assert [a["data"]["okrbot"] for card in cards for a in bar_actions(card)] == ["checkin.undo"]
    assert cards[-1]["body"][-1]["text"] == "57% of the period has passed."
    text = fallback_text(message)  # the text of a text-only activity: cut to fit one message
    assert len(text) <= 28_000 and payload_size(text) <= CARD_BUDGET
    assert text.endswith("…") and render_text(message).startswith(text.removesuffix("…"))


def big_form(n: int = 300) -> Message:
    fields = tuple(
        FormField(
            f"KR-{i}",
            f"Key result {i}",
            "binary" if i % 10 == 0 else "number",
            str(i),
            number=None if i % 10 == 0 else float(i),
        )
        for i in range(n)
    )
    health = (("on_track", "on track"), ("at_risk", "at risk"), ("off_track", "off track"))
    form = Form("checkin.form", "Check-in form · 2026-W47", fields, "Save", health)
    return Message(title=form.title, form=form, extra={"kind": "form", "week": "2026-W47"})


def test_a_300_field_form_is_split_and_every_part_can_be_saved():
    cards = message_cards(big_form())
    assert len(cards) >= 3
    seen: dict[str, dict] = {}
    for card in cards:
        assert_valid_card(card)
        assert [a["data"]["okrbot"] for a in card["actions"]] == ["checkin.submit"]
        action_id, week, values = card_values(teams_submit(card, "checkin.submit"))
        assert (action_id, week) == ("checkin.submit", "2026-W47")
        assert not set(values) & set(seen)
        seen.update(values)
    assert list(seen) == [f"KR-{i}" for i in range(300)]
    assert seen["KR-7"] == {"value": "7", "health": None, "comment": None}
    assert seen["KR-10"]["value"] is None  # "10" is neither done nor not done: not prefilled


def test_many_buttons_go_to_action_sets():
    message = Message(
        text="Pick one", actions=tuple(Action(f"pick.{n}", f"Option {n}", str(n)) for n in range(9))
    )
    card = one_card(message)
    assert len(card["actions"]) == 6
    (rest,) = [o for o in card["body"] if o["type"] == "ActionSet"]
    assert [a["data"]["value"] for a in rest["actions"]] == ["6", "7", "8"]


def test_long_text_is_split_and_oversized_parts_are_clipped():
    lines = [f"line {n:04d} " + "x" * 90 for n in range(100)]
    text = "\n".join(lines)
    (card,) = message_cards(Message(text=text))
    assert_valid_card(card)
    pieces = texts(card)
    assert len(pieces) > 1 and all(len(p) <= 1500 for p in pieces)
    assert "\n".join(pieces) == text  # nothing lost, every cut at a line's end

    emoji = "🟢" * 5000  # one line that escapes to 60 KB
    cards = message_cards(Message(title="🟡" * 3000, text=emoji, actions=(Action("a", "A"),)))
    for card in cards:
        assert_valid_card(card)
    assert "".join(t for card in cards for t in texts(card)).count("🟢") == 5000
    # an absurdly long row is clipped to fit a card
    huge = ProgressRow("K", "🔴" * 20000, 0.5, "50%", value="1 / 2", note="n")
    cards = message_cards(Message(sections=(Section(rows=(huge,)),)))
    assert len(cards) == 1
    assert_valid_card(cards[0])
    assert texts(cards[0])[0].endswith("…")


def test_empty_message_is_still_a_valid_card():
    for card in message_cards(Message()):
        assert_valid_card(card)
    assert_valid_card(message_card(Message()))


def test_prefilled_numbers_come_from_the_fields_number():
    fields = (
        FormField("K1", "Subscribers", "number", "4.100", number=4100.0),  # shown the Danish way
        FormField("K2", "Rate", "number", "1,5", number=1.5),
        FormField("K3", "Empty", "number", "", hint="target 12"),
        FormField("K4", "Negative", "number", "-3", number=-3.0),
    )
    form = Form("checkin.form", "Form", fields, "Gem", (("on_track", "på sporet"),))
    shown = inputs(message_card(Message(title="Form", form=form)))
    assert shown["K1|value"]["value"] == 4100
    assert shown["K2|value"]["value"] == 1.5
    assert shown["K4|value"]["value"] == -3
    assert "value" not in shown["K3|value"] and shown["K3|value"]["placeholder"] == "target 12"


def replace_form_words(message: Message) -> Message:
    form = message.form
    assert form is not None
    odd = Form(form.id, form.title, form.fields, "Submit!", (("on_track", "fine"),))
    return Message(title=message.title, form=odd)


# --- reading a submitted card --------------------------------------------------------------------


def test_card_values_reads_both_shapes():
    data = {
        "okrbot": "checkin.submit",
        "value": "2026-W47",
        "A|value": "4.125",
        "A|health": "",
        "A|comment": "  ",
        "B|value": 1000.0,
        "C|value": "1e3",
        "D|value": "lots",
        "E|comment": "blocked by legal",
        "noise": "x",
        "F|other": "x",
    }
    expected = (
        "checkin.submit",
        "2026-W47",
        {
            "A": {"value": "4.125", "health": None, "comment": None},
            "B": {"value": "1000.0", "health": None, "comment": None},
            "C": {"value": "1e3", "health": None, "comment": None},
            "D": {"value": "lots", "health": None, "comment": None},
            "E": {"value": None, "health": None, "comment": "blocked by legal"},
        },
    )
    assert card_values(data) == expected
    invoke = {"action": {"type": "Action.Execute", "verb": "x", "data": data}, "trigger": "manual"}
    assert card_values(invoke) == expected
    # Input.Number sends machine numbers: the form reader takes them as such
    assert [float(v["value"]) for v in list(expected[2].values())[:3]] == [4.125, 1000, 1000]

    assert card_values(None) == (None, "", {})
    assert card_values({"text": "hello"}) == (None, "", {})
    assert card_values({"okrbot": "checkin.undo"}) == ("checkin.undo", "", {})
    assert card_values({"okrbot": "", "value": 7}) == (None, "7", {})


# --- text and attachment -------------------------------------------------------------------------


async def test_fallback_text_and_attachment(core):
    answer = await core.command(await person(core, "mette"), "okr marketing")
    assert fallback_text(answer) == render_text(answer)
    assert fallback_text(Message()) == "…"

    big = big_message(rows=3000, per_section=100)
    full = render_text(big)
    short = fallback_text(big)
    assert len(full) > 28_000 >= len(short)
    kept = short.removesuffix("…")
    assert short.endswith("…") and full.startswith(kept) and full[len(kept)] == "\n"
    assert payload_size(short) <= CARD_BUDGET
    assert len(fallback_text(big, limit=500)) <= 500
    lines = Message(text="\n".join(f"line {n:03d} " + "x" * 90 for n in range(300)))
    cut = fallback_text(lines)  # 30,000 characters: cut at a line's end, within both limits
    assert len(cut) < 28_000 and payload_size(cut) <= CARD_BUDGET and cut.endswith("x…")
    one_word = fallback_text(Message(text="x" * 30_000))  # bytes: the quotes and "…" escaped
    assert payload_size(one_word) == CARD_BUDGET and len(one_word) == CARD_BUDGET - 2 - 6 + 1
    assert len(fallback_text(Message(text="x" * 1000), limit=100)) <= 100

    card = message_card(answer)
    assert attachment(card) == {"contentType": CONTENT_TYPE, "content": card}
    assert CONTENT_TYPE == "application/vnd.microsoft.card.adaptive"


# --- the validator itself ------------------------------------------------------------------------

BREAKAGES: dict[str, Callable[[dict], None]] = {
    "misspelt property": lambda c: c["body"][0].update(wieght="bolder"),
    "unknown weight": lambda c: c["body"][0].update(weight="boldest"),
    "unknown size": lambda c: c["body"][0].update(size="huge"),
    "wrap not a boolean": lambda c: c["body"][0].update(wrap="yes"),
    "TextBlock without text": lambda c: c["body"][0].pop("text"),
    "unknown element": lambda c: c["body"].append({"type": "TextBox", "text": "x"}),
    "input without id": lambda c: first(c, "Input.Number").pop("id"),
    "number input with a text value": lambda c: first(c, "Input.Number").update(value="5"),
    "choice without title": lambda c: first(c, "Input.ChoiceSet")["choices"][0].pop("title"),
    "unknown choice style": lambda c: first(c, "Input.ChoiceSet").update(style="dropdown"),
    "misspelt action property": lambda c: c["actions"][0].update(titel="Save"),
    "unknown action style": lambda c: c["actions"][0].update(style="primary"),
    "unknown action type": lambda c: c["actions"][0].update(type="Action.Post"),
    "other version": lambda c: c.update(version="1.6"),
    "no body": lambda c: c.pop("body"),
    "unknown card property": lambda c: c.update(msteams={"width": "Full"}),
    "fact with a number": lambda c: c["body"].append(
        {"type": "FactSet", "facts": [{"title": "a", "value": 1}]}
    ),
    "unknown spacing": lambda c: c["body"][0].update(spacing="tiny"),
}


def first(card: dict, kind: str) -> dict:
    return next(o for o in walk(card) if o.get("type") == kind)


@pytest.fixture
async def valid_prompt_card(core) -> dict:
    _, prompt, form = await anna_checkin(core)
    card = prompt_card(prompt, form)
    assert not schema_errors(card)
    return card


@pytest.mark.parametrize("breakage", list(BREAKAGES))
async def test_the_validator_rejects_a_broken_card(valid_prompt_card, breakage):
    card = copy.deepcopy(valid_prompt_card)
    BREAKAGES[breakage](card)
    assert schema_errors(card), f"{breakage} was accepted"
    with pytest.raises(AssertionError):
        assert_valid_card(card)


def test_the_validator_checks_what_the_schema_cannot():
    card = message_card(Message(text="x", form=big_form(2).form))
    assert_valid_card(card)
    twice = copy.deepcopy(card)
    first(twice, "Input.Number")["id"] = "KR-0|value"  # KR-1's value takes KR-0's id
    with pytest.raises(AssertionError, match="repeated input ids"):
        assert_valid_card(twice)
    foreign = copy.deepcopy(card)
    foreign["actions"][0]["data"] = {"action": "save"}
    with pytest.raises(AssertionError, match="our buttons' data"):
        assert_valid_card(foreign)
