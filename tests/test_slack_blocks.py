"""Slack's look of the core's answers (adapters/slack/blocks.py): Block Kit messages, the check-in
modal and the App Home, built from real answers of the core on the demo organisation and checked
against Slack's rules by `assert_valid_blocks` / `assert_valid_view` below (and, as a second
opinion, by slack_sdk's own model validation).

Demo facts used (see tests/test_commands.py): MKT-1.1 is Anna's, 5 of 12 campaigns (42%), on
track; MKT-1.2 is 4,100 of 10,000 at risk; MKT-1.4 (binary, not done, no health) is flagged ⚠;
Anna's locale is Danish, Mette's English; the week is 2026-W47.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace

import pytest

from adapters.slack.blocks import (
    BLOCK_LIMIT,
    OPEN_CHECKIN,
    SECTION_LIMIT,
    TEXT_LIMIT,
    action_name,
    clip,
    escape,
    fallback_text,
    message_blocks,
    split_text,
)
from adapters.slack.views import form_errors, form_view, home_view, view_state_values
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

# --- a Block Kit validator -----------------------------------------------------------------------

TEXT_KEYS = {"type", "text", "emoji", "verbatim"}
BLOCK_KEYS = {
    "section": {"type", "block_id", "text", "fields", "accessory", "expand"},
    "header": {"type", "block_id", "text"},
    "divider": {"type", "block_id"},
    "context": {"type", "block_id", "elements"},
    "actions": {"type", "block_id", "elements"},
    "input": {"type", "block_id", "label", "element", "hint", "optional", "dispatch_action"},
}
SURFACE_BLOCKS = {
    "message": {"section", "header", "divider", "context", "actions"},
    "modal": set(BLOCK_KEYS),
    "home": set(BLOCK_KEYS),
}
MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
ELEMENT_KEYS = {
    "button": {"type", "text", "action_id", "value", "style", "url", "confirm"},
    "number_input": {
        "type",
        "action_id",
        "is_decimal_allowed",
        "initial_value",
        "min_value",
        "max_value",
        "placeholder",
        "focus_on_load",
    },
    "plain_text_input": {
        "type",
        "action_id",
        "initial_value",
        "multiline",
        "min_length",
        "max_length",
        "placeholder",
        "focus_on_load",
    },
    "static_select": {
        "type",
        "action_id",
        "options",
        "initial_option",
        "placeholder",
        "focus_on_load",
    },
}
INPUT_ELEMENTS = {"number_input", "plain_text_input", "static_select"}
ACTION_ELEMENTS = {"button", "static_select"}
MODAL_KEYS = {
    "type",
    "title",
    "blocks",
    "close",
    "submit",
    "private_metadata",
    "callback_id",
    "clear_on_close",
    "notify_on_close",
    "external_id",
    "submit_disabled",
}
HOME_KEYS = {"type", "blocks", "private_metadata", "callback_id", "external_id"}
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def check_escaped(text: str, where: str) -> None:
    """Slack's mrkdwn rule: `<`, `>` only in links (we make none), `&` only in an entity."""
    assert "<" not in text and ">" not in text, f"{where}: unescaped < or > in {text!r}"
    for found in re.finditer("&", text):
        assert re.match(r"&(amp|lt|gt);", text[found.start() :]), f"{where}: bare & in {text!r}"


def check_text(obj, where: str, *, limit: int, plain: bool = False) -> str:
    assert isinstance(obj, dict), f"{where}: a text object is a dict, not {obj!r}"
    assert set(obj) <= TEXT_KEYS, f"{where}: unknown keys {set(obj) - TEXT_KEYS}"
    assert obj.get("type") in ("plain_text", "mrkdwn"), f"{where}: text type {obj.get('type')!r}"
    if plain:
        assert obj["type"] == "plain_text", f"{where}: Slack wants plain_text here"
    if obj["type"] == "plain_text":
        assert "verbatim" not in obj, f"{where}: verbatim is mrkdwn's"
    else:
        assert "emoji" not in obj, f"{where}: emoji is plain_text's"
    text = obj.get("text")
    assert isinstance(text, str) and text.strip(), f"{where}: empty text"
    assert len(text) <= limit, f"{where}: {len(text)} characters > {limit}"
    if obj["type"] == "mrkdwn":
        check_escaped(text, where)
    return text


def check_id(value, where: str) -> None:
    assert isinstance(value, str) and 0 < len(value) <= 255, f"{where}: bad id {value!r}"


def check_option(option, where: str) -> None:
    assert isinstance(option, dict) and set(option) <= {"text", "value", "description"}, where
    check_text(option.get("text"), f"{where}.text", limit=75, plain=True)
    value = option.get("value")
    assert isinstance(value, str) and 0 < len(value) <= 150, f"{where}: option value {value!r}"


def check_element(element, where: str, allowed: set[str], action_ids: list[str]) -> None:
    assert isinstance(element, dict), f"{where}: element is a dict"
    kind = element.get("type")
    assert kind in allowed, f"{where}: element type {kind!r} not in {sorted(allowed)}"
    assert set(element) <= ELEMENT_KEYS[kind], f"{where}: unknown keys"
    check_id(element.get("action_id"), f"{where}.action_id")
    action_ids.append(element["action_id"])
    if "placeholder" in element:
        check_text(element["placeholder"], f"{where}.placeholder", limit=150, plain=True)
    if kind == "button":
        check_text(element.get("text"), f"{where}.text", limit=75, plain=True)
        if "value" in element:
            value = element["value"]
            assert isinstance(value, str) and len(value) <= 2000, f"{where}: value"
        assert element.get("style", "primary") in ("primary", "danger"), f"{where}: style"
    elif kind == "number_input":
        decimal = element.get("is_decimal_allowed")
        assert isinstance(decimal, bool), f"{where}: is_decimal_allowed is required"
        if "initial_value" in element:
            initial = element["initial_value"]
            assert isinstance(initial, str) and NUMBER.fullmatch(initial), f"{where}: {initial!r}"
            assert decimal or "." not in initial, f"{where}: a decimal in an integer input"
    elif kind == "plain_text_input":
        longest = element.get("max_length", 3000)
        assert isinstance(longest, int) and 0 < longest <= 3000, f"{where}: max_length"
        assert isinstance(element.get("multiline", False), bool), f"{where}: multiline"
        assert len(element.get("initial_value", "")) <= longest, f"{where}: initial_value"
    elif kind == "static_select":
        options = element.get("options")
        assert isinstance(options, list) and 0 < len(options) <= 100, f"{where}: options"
        for n, option in enumerate(options):
            check_option(option, f"{where}.options[{n}]")
        values = [o["value"] for o in options]
        assert len(set(values)) == len(values), f"{where}: repeated option values"
        if "initial_option" in element:
            assert element["initial_option"] in options, f"{where}: initial_option not an option"


def check_block(
    block, where: str, surface: str, block_ids: list[str], action_ids: list[str]
) -> None:
    assert isinstance(block, dict), f"{where}: a block is a dict"
    kind = block.get("type")
    assert kind in SURFACE_BLOCKS[surface], f"{where}: {kind!r} blocks are not for a {surface}"
    assert set(block) <= BLOCK_KEYS[kind], f"{where}: unknown keys {set(block) - BLOCK_KEYS[kind]}"
    if "block_id" in block:
        check_id(block["block_id"], f"{where}.block_id")
        block_ids.append(block["block_id"])
    if kind == "section":
        assert "text" in block or "fields" in block, f"{where}: a section needs text or fields"
        if "text" in block:
            check_text(block["text"], f"{where}.text", limit=3000)
        if "fields" in block:
            fields = block["fields"]
            assert isinstance(fields, list) and 0 < len(fields) <= 10, f"{where}: 1..10 fields"
            for n, field in enumerate(fields):
                check_text(field, f"{where}.fields[{n}]", limit=2000)
    elif kind == "header":
        check_text(block.get("text"), f"{where}.text", limit=150, plain=True)
    elif kind == "context":
        elements = block.get("elements")
        assert isinstance(elements, list) and 0 < len(elements) <= 10, f"{where}: 1..10 elements"
        for n, element in enumerate(elements):
            check_text(element, f"{where}.elements[{n}]", limit=3000)
    elif kind == "actions":
        elements = block.get("elements")
        assert isinstance(elements, list) and 0 < len(elements) <= 25, f"{where}: 1..25 elements"
        for n, element in enumerate(elements):
            check_element(element, f"{where}.elements[{n}]", ACTION_ELEMENTS, action_ids)
    elif kind == "input":
        check_text(block.get("label"), f"{where}.label", limit=2000, plain=True)
        if "hint" in block:
            check_text(block["hint"], f"{where}.hint", limit=2000, plain=True)
        assert isinstance(block.get("optional", False), bool), f"{where}: optional"
        check_element(block.get("element"), f"{where}.element", INPUT_ELEMENTS, action_ids)


def assert_valid_blocks(blocks, surface: str = "message") -> None:
    """Blocks Slack accepts on that surface: known types and keys, text objects of the right
    kind and length, counts within the limits, unique block and action ids (action ids are
    per block in an input, so in a view only the buttons' must be unique)."""
    assert surface in SURFACE_BLOCKS
    assert isinstance(blocks, list) and blocks, "at least one block"
    assert len(blocks) <= MAX_BLOCKS[surface], f"{len(blocks)} blocks on a {surface}"
    block_ids: list[str] = []
    action_ids: list[str] = []
    for n, block in enumerate(blocks):
        check_block(block, f"blocks[{n}]", surface, block_ids, action_ids)
    assert len(set(block_ids)) == len(block_ids), f"repeated block_id in {block_ids}"
    button_ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    unique = button_ids if surface != "message" else action_ids
    assert len(set(unique)) == len(unique), f"repeated action_id in {unique}"
    if surface == "message":
        assert sum(len(t) for t in texts(blocks)) <= TEXT_LIMIT, "too much text for a message"
    sdk_check_blocks(blocks)


def assert_valid_view(view) -> None:
    assert isinstance(view, dict) and view.get("type") in ("modal", "home"), "a view type"
    if view["type"] == "modal":
        assert set(view) <= MODAL_KEYS, f"unknown keys {set(view) - MODAL_KEYS}"
        check_text(view.get("title"), "title", limit=24, plain=True)
        for key in ("submit", "close"):
            if key in view:
                check_text(view[key], key, limit=24, plain=True)
        if any(b.get("type") == "input" for b in view.get("blocks", [])):
            assert "submit" in view, "a modal with inputs needs submit"
    else:
        assert set(view) <= HOME_KEYS, f"unknown keys {set(view) - HOME_KEYS}"
    metadata = view.get("private_metadata", "")
    assert isinstance(metadata, str) and len(metadata) <= 3000, "private_metadata"
    if "callback_id" in view:
        check_id(view["callback_id"], "callback_id")
    assert_valid_blocks(view.get("blocks"), surface=view["type"])
    sdk_check_view(view)


def sdk_check_blocks(blocks) -> None:
    """slack_sdk's own model validation, as a second opinion."""
    models = pytest.importorskip("slack_sdk.models.blocks")
    for block in blocks:
        models.Block.parse(block).to_dict()


def sdk_check_view(view) -> None:
    views = pytest.importorskip("slack_sdk.models.views")
    views.View(**view).to_dict()


def texts(value) -> list[str]:
    """Every text string inside blocks, in order."""
    if isinstance(value, list):
        return [t for v in value for t in texts(v)]
    if isinstance(value, dict):
        found = [value["text"]] if isinstance(value.get("text"), str) else []
        return found + [t for v in value.values() for t in texts(v)]
    return []


def section_with(blocks, needle: str) -> str:
    found = [
        b["text"]["text"]
        for b in blocks
        if b["type"] == "section" and "text" in b and needle in b["text"]["text"]
    ]
    assert len(found) == 1, f"{needle!r} in {texts(blocks)}"
    return found[0]


def buttons(blocks) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def submitted(view: dict, **changes: str | None) -> dict:
    """The `view["state"]["values"]` Slack sends when the modal is submitted as shown, with
    `changes` by block id (a value, or an option's value for a select)."""
    state: dict = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        if element["type"] == "static_select":
            chosen = element.get("initial_option")
            if block_id in changes:
                wanted = changes[block_id]
                chosen = next((o for o in element["options"] if o["value"] == wanted), None)
            entry = {"type": "static_select", "selected_option": chosen}
        else:
            value = changes.get(block_id, element.get("initial_value"))
            entry = {"type": element["type"], "value": value}
        state[block_id] = {element["action_id"]: entry}
    return state


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


def one_message(message: Message) -> list[dict]:
    chunks = message_blocks(message)
    assert len(chunks) == 1
    assert_valid_blocks(chunks[0])
    return chunks[0]


# --- messages ------------------------------------------------------------------------------------


async def test_team_answer(core):
    answer = await core.command(await person(core, "mette"), "okr marketing")
    blocks = one_message(answer)

    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Marketing · 2026-Q4 · 31%", "emoji": True},
    }
    objective = section_with(blocks, "MKT-1 Turn")
    assert objective == (
        "*MKT-1 Turn in-store data into segmented campaigns · 31%*\n"
        "↳ supports CO-1 Grow revenue by 20% (Nordlys)"
    )
    mkt11 = section_with(blocks, "*MKT-1.1*")
    assert "5 / 12 campaigns" in mkt11 and "42%" in mkt11
    assert mkt11.splitlines() == [
        "*MKT-1.1* Segmented campaigns launched",
        f"{progress_bar(5 / 12)} 42%  5 / 12 campaigns  🟢 on track",
        "Anna Holm · updated 6 days ago",
    ]
    mkt12 = section_with(blocks, "*MKT-1.2*")
    assert "4,100 / 10,000  🟡 at risk" in mkt12 and "⚠" not in mkt12  # said once, by health
    mkt14 = section_with(blocks, "*MKT-1.4*")
    assert "not done  ⚠" in mkt14
    # one section per key result, in the file's order, then the pace as context
    keys = re.findall(r"^\*(MKT-\d\.\d)\*", "\n".join(texts(blocks)), re.M)
    assert keys == ["MKT-1.1", "MKT-1.2", "MKT-1.3", "MKT-1.4", "MKT-1.5"]
    assert blocks[-1]["type"] == "context"
    assert blocks[-1]["elements"][0]["text"].startswith("57% of the period has passed")
    assert not buttons(blocks)


async def test_company_tree_rows_are_indented_with_their_team(core):
    tree = await core.command(await person(core, "mette"), "okr company")
    blocks = one_message(tree)
    mkt1 = section_with(blocks, "*MKT-1*")
    head, bar = mkt1.splitlines()
    assert head.startswith("\u2003*MKT-1* Turn in-store data")  # one level under CO-1
    assert bar.endswith("⚠  · Marketing")


async def test_checkin_prompt_has_the_buttons(core):
    prompt = await core.command(await person(core, "anna"), "okr checkin")
    assert prompt.extra["kind"] == "prompt"
    blocks = one_message(prompt)

    assert section_with(blocks, "*1. MKT-1.1*").splitlines()[1] == (
        f"{progress_bar(5 / 12)} 42 %  5 / 12 campaigns  🟢 på sporet"
    )
    assert [(b["action_id"], b["value"], b.get("style")) for b in buttons(blocks)] == [
        ("checkin.no_change", "2026-W47", None),
        ("checkin.skip", "2026-W47", None),
        ("checkin.form", "2026-W47", "primary"),
    ]
    assert [b["text"]["text"] for b in buttons(blocks)] == [
        "Ingen ændringer",
        "Spring over denne uge",
        "Åbn formular",
    ]
    assert blocks[-1]["type"] == "actions"  # the buttons come last, after the hint
    assert blocks[-2]["type"] == "context"


async def test_confirmation_has_undo(core):
    anna = await person(core, "anna")
    saved = await core.direct_message(anna, "kampagner 6", platform="test")
    assert saved is not None and saved.extra["kind"] == "confirmation"
    blocks = one_message(saved)

    assert blocks[0]["text"]["text"] == "Gemt, tak!"
    row = section_with(blocks, "*MKT-1.1*")
    assert "6 / 12 campaigns" in row and "50 %" in row
    assert row.splitlines()[-1] == "var 5 campaigns"
    (undo,) = buttons(blocks)
    assert undo["action_id"] == "checkin.undo"
    assert undo["value"] == saved.extra["batch"]
    assert undo["text"]["text"] == "Fortryd"


async def test_help_uses_fields(core):
    help_ = await core.command(await person(core, "mette"), "okr help")
    blocks = one_message(help_)
    (fields,) = [b["fields"] for b in blocks if "fields" in b]
    assert fields[0]["text"].startswith("*okr &lt;team&gt;*\na team's objectives")
    assert "`okr team &lt;team&gt;`" in fields[0]["text"]  # the core's code spans stay
    assert section_with(blocks, "*Commands*") == "*Commands*"


async def test_error_answer(core):
    answer = await core.command(await person(core, "mette"), "okr nosuch")
    blocks = one_message(answer)
    assert blocks[0]["type"] == "section"  # no title, no header
    assert "nosuch" in blocks[0]["text"]["text"]
    assert [e["text"] for e in blocks[1]["elements"]][-1] == "Type `okr help` for the commands."


def big_message(rows: int = 200, per_section: int = 50) -> Message:
    sections = tuple(
        Section(
            title=f"OBJ-{s} Objective number {s}",
            text="↳ supports CO-1 Grow revenue",
            rows=tuple(
                ProgressRow(
                    key=f"KR-{n}",
                    title=f"Key result {n} <with> & odd characters",
                    progress=n / rows,
                    percent=f"{round(100 * n / rows)}%",
                    value=f"{n} / {rows}",
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


def test_a_long_answer_becomes_several_messages():
    message = big_message()
    chunks = message_blocks(message)

    assert len(chunks) >= 4  # 200 rows + 4 titles + text + dividers do not fit in 50 blocks
    for chunk in chunks:
        assert_valid_blocks(chunk)
        assert len(chunk) <= BLOCK_LIMIT
        assert chunk[-1]["type"] != "divider"
    assert chunks[0][0]["type"] == "header"
    for n, chunk in enumerate(chunks[1:], 2):
        assert chunk[0]["type"] == "context"
        assert chunk[0]["elements"][0]["text"] == f"Everything at once · {n}/{len(chunks)}"
        assert chunk[1]["type"] != "divider"
    every = "\n".join(t for chunk in chunks for t in texts(chunk))
    assert re.findall(r"^\*KR-(\d+)\*", every, re.M) == [str(n) for n in range(200)]
    # an objective's title never ends a message without its first row
    for chunk in chunks:
        last = chunk[-1]
        assert not (last["type"] == "section" and last["text"]["text"].startswith("*OBJ-"))
    # context and the buttons close the last message only
    assert [b["action_id"] for c in chunks for b in buttons(c)] == ["checkin.undo"]
    assert chunks[-1][-1]["type"] == "actions" and chunks[-1][-2]["type"] == "context"


def test_many_buttons_and_context_lines_are_spread_over_blocks():
    message = Message(
        text="Pick one",
        context=tuple(f"line {n}" for n in range(25)),
        actions=tuple(Action(f"pick.{n}", f"Option {n}", str(n)) for n in range(30)),
    )
    (blocks,) = message_blocks(message)
    assert_valid_blocks(blocks)
    assert [len(b["elements"]) for b in blocks if b["type"] == "context"] == [10, 10, 5]
    assert [len(b["elements"]) for b in blocks if b["type"] == "actions"] == [25, 5]


def test_long_text_is_split_at_line_boundaries():
    lines = [f"line {n:04d} " + "x" * 90 for n in range(100)]  # 100 lines, 10,000 characters
    text = "\n".join(lines)
    assert len(text) > 10_000
    (blocks,) = message_blocks(Message(text=text))
    assert_valid_blocks(blocks)
    pieces = [b["text"]["text"] for b in blocks]
    assert len(pieces) == 4
    assert all(len(p) <= SECTION_LIMIT for p in pieces)
    assert "\n".join(pieces) == text  # nothing lost, every cut at a line's end


def test_one_long_line_is_split_at_spaces_and_never_inside_an_entity():
    words = " ".join(f"w{n}&" for n in range(3000))  # 10,000+ characters, no newline
    (blocks,) = message_blocks(Message(text=words))
    assert_valid_blocks(blocks)  # also: every & is a whole &amp;
    joined = " ".join(b["text"]["text"] for b in blocks)
    assert joined == escape(words)

    no_spaces = "&" * 5000
    pieces = split_text(escape(no_spaces), SECTION_LIMIT)
    assert all(len(p) <= SECTION_LIMIT for p in pieces)
    assert all(re.fullmatch(r"(&amp;)+", p) for p in pieces)
    assert "".join(pieces) == escape(no_spaces)


def test_cuts_keep_limits_and_entities_on_random_text():
    rng = random.Random(47)
    for _ in range(2000):
        raw = "".join(rng.choice("&<>ab \n") for _ in range(rng.randint(0, 300)))
        limit = rng.randint(8, 60)
        escaped = escape(raw)
        pieces = split_text(escaped, limit)
        assert re.sub(r"\s", "", "".join(pieces)) == re.sub(r"\s", "", escaped)
        for text in [*pieces, clip(escaped, limit), fallback_text(Message(text=raw), limit)]:
            assert len(text) <= limit
            check_escaped(text, repr(raw))


def test_escaping_keeps_our_bold():
    message = Message(
        title="R&D <team> update",
        text="a < b & c > d, see `okr <team>`",
        sections=(
            Section(
                title="<b>Ops & more</b>",
                rows=(ProgressRow("K&1", "Title <x>", 0.5, "50%", value="1 < 2", note="A & B"),),
                fields=(("<label>", "v & w"),),
            ),
        ),
        context=("x > y",),
    )
    (blocks,) = message_blocks(message)
    assert_valid_blocks(blocks)
    assert blocks[0]["text"]["text"] == "R&D <team> update"  # plain_text: as is
    assert blocks[1]["text"]["text"] == "a &lt; b &amp; c &gt; d, see `okr &lt;team&gt;`"
    assert section_with(blocks, "Ops") == "*&lt;b&gt;Ops &amp; more&lt;/b&gt;*"
    row = section_with(blocks, "K&amp;1")
    assert row.splitlines() == [
        "*K&amp;1* Title &lt;x&gt;",
        f"{progress_bar(0.5)} 50%  1 &lt; 2",
        "A &amp; B",
    ]
    (fields,) = [b["fields"] for b in blocks if "fields" in b]
    assert fields == [{"type": "mrkdwn", "text": "*&lt;label&gt;*\nv &amp; w"}]
    assert blocks[-1]["elements"][0]["text"] == "x &gt; y"


def test_lengths_are_clipped_to_slack_limits():
    message = Message(
        title="T" * 140 + " and some more words",
        text="body",
        actions=(Action("a", "Label " * 20, "v"),),
    )
    (blocks,) = message_blocks(message)
    assert_valid_blocks(blocks)
    header = blocks[0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("…")
    label = buttons(blocks)[0]["text"]["text"]
    assert len(label) <= 75 and label.endswith("…") and label.startswith("Label Label")

    with pytest.raises(ValueError, match="2000"):
        message_blocks(Message(text="x", actions=(Action("a", "A", "v" * 2001),)))


def test_repeated_action_ids_are_numbered():
    message = Message(
        text="Two answers to undo",
        actions=(
            Action("checkin.undo", "Undo Monday", "b1"),
            Action("checkin.undo", "Undo Tuesday", "b2"),
            Action("checkin.skip", "Skip", "2026-W47"),
        ),
    )
    (blocks,) = message_blocks(message)
    assert_valid_blocks(blocks)
    ids = [b["action_id"] for b in buttons(blocks)]
    assert ids == ["checkin.undo:1", "checkin.undo:2", "checkin.skip"]
    assert [action_name(i) for i in ids] == ["checkin.undo", "checkin.undo", "checkin.skip"]
    assert [b["value"] for b in buttons(blocks)] == ["b1", "b2", "2026-W47"]
    assert action_name("checkin.form") == "checkin.form"
    assert action_name("a:b") == "a:b"  # only a number is a suffix


def test_empty_message_is_still_a_valid_message():
    for blocks in message_blocks(Message()):
        assert_valid_blocks(blocks)


async def test_fallback_text(core):
    answer = await core.command(await person(core, "mette"), "okr marketing")
    assert fallback_text(answer) == render_text(answer)  # nothing to escape, short

    assert fallback_text(Message(text="a <b> & c")) == "a &lt;b&gt; &amp; c"

    big = big_message()
    full = escape(render_text(big))
    short = fallback_text(big)
    assert len(full) > 3000 >= len(short)
    assert short.endswith("…")
    kept = short.removesuffix("…")
    assert full.startswith(kept) and full[len(kept)] == "\n"  # cut at a line's end
    assert len(fallback_text(big, limit=500)) <= 500


# --- the check-in modal --------------------------------------------------------------------------


async def anna_form(core) -> tuple[object, Message]:
    anna = await person(core, "anna")
    form = await core.press(anna, "checkin.form", "2026-W47")
    assert form.form is not None and form.extra["kind"] == "form"
    return anna, form


async def test_form_modal(core):
    _, form = await anna_form(core)
    view = form_view(form, private_metadata="2026-W47")
    assert_valid_view(view)

    assert view["callback_id"] == "checkin.form"
    assert view["private_metadata"] == "2026-W47"
    assert view["title"]["text"] == "Check-in-formular"  # 28 characters do not fit in 24
    assert view["submit"]["text"] == "Gem"
    assert view["close"]["text"] == "Annuller"
    assert view["blocks"][0]["text"]["text"] == "*Check-in-formular · 2026-W47*"
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(inputs) == [
        f"{key}|{part}"
        for key in ("MKT-1.1", "MKT-1.3", "MKT-1.4")
        for part in ("value", "health", "comment")
    ]
    mkt11 = inputs["MKT-1.1|value"]
    assert mkt11["label"]["text"] == "MKT-1.1 Segmented campaigns launched"
    assert mkt11["hint"]["text"] == "mål 12 campaigns"
    assert mkt11["element"] == {
        "type": "number_input",
        "action_id": "value",
        "is_decimal_allowed": True,
        "initial_value": "5",
    }
    assert inputs["MKT-1.3|value"]["element"]["initial_value"] == "150"
    binary = inputs["MKT-1.4|value"]["element"]
    assert binary["type"] == "static_select"
    assert [(o["value"], o["text"]["text"]) for o in binary["options"]] == [
        ("1", "færdig"),
        ("0", "ikke færdig"),
    ]
    assert binary["initial_option"]["value"] == "0"
    health = inputs["MKT-1.1|health"]
    assert health["optional"] is True and health["label"]["text"] == "Status"
    assert [o["value"] for o in health["element"]["options"]] == [
        "on_track",
        "at_risk",
        "off_track",
    ]
    assert health["element"]["initial_option"]["value"] == "on_track"
    assert "initial_option" not in inputs["MKT-1.4|health"]["element"]  # no health yet
    comment = inputs["MKT-1.1|comment"]
    assert comment["optional"] is True and comment["element"]["action_id"] == "comment"


async def test_modal_round_trip_saves_through_the_core(core):
    anna, form = await anna_form(core)
    view = form_view(form)

    unchanged = view_state_values(submitted(view))
    assert unchanged == {
        "MKT-1.1": {"value": "5", "health": "on_track", "comment": None},
        "MKT-1.3": {"value": "150", "health": "on_track", "comment": None},
        "MKT-1.4": {"value": "0", "health": None, "comment": None},
    }

    state = submitted(
        view,
        **{
            "MKT-1.1|value": "6",
            "MKT-1.1|comment": "two more in the pipeline",
            "MKT-1.3|health": "at_risk",
            "MKT-1.4|value": "1",
        },
    )
    values = view_state_values(state)
    assert values == {
        "MKT-1.1": {"value": "6", "health": "on_track", "comment": "two more in the pipeline"},
        "MKT-1.3": {"value": "150", "health": "at_risk", "comment": None},
        "MKT-1.4": {"value": "1", "health": None, "comment": None},
    }
    outcome = await core.submit_form(anna, values)
    assert not outcome.errors
    blocks = one_message(outcome.message)
    assert "6 / 12 campaigns" in section_with(blocks, "*MKT-1.1*")
    assert "🟡 i risiko" in section_with(blocks, "*MKT-1.3*")
    assert "færdig" in section_with(blocks, "*MKT-1.4*")


async def test_form_errors_point_at_the_value_inputs(core):
    anna, form = await anna_form(core)
    view = form_view(form)
    values = view_state_values(submitted(view, **{"MKT-1.4|value": None}))
    values["MKT-1.1"]["value"] = "lots"  # what a number input never sends, but an old client might
    outcome = await core.submit_form(anna, values)
    assert outcome.message is None
    errors = form_errors(outcome.errors)
    assert list(errors) == ["MKT-1.1|value"]
    assert "lots" in errors["MKT-1.1|value"]
    block_ids = {b.get("block_id") for b in view["blocks"]}
    assert set(errors) <= block_ids
    assert form_errors({"X-1": "e" * 5000})["X-1|value"].endswith("…")


def test_state_values_are_the_machine_numbers_slack_sends():
    state = {
        f"K{n}|value": {"value": {"type": "number_input", "value": raw}}
        for n, raw in enumerate(["4.125", "0.125", "12.000", "1234.567", "-3.5", "4100", "1e3"])
    }
    state["K0|health"] = {"health": {"type": "static_select", "selected_option": None}}
    state["K0|comment"] = {"comment": {"type": "plain_text_input", "value": "  "}}
    state["unrelated"] = {"x": {"type": "plain_text_input", "value": "ignored"}}
    values = view_state_values(state)
    assert values["K0"] == {"value": "4.125", "health": None, "comment": None}
    expected = [4.125, 0.125, 12, 1234.567, -3.5, 4100, 1000]
    assert [float(values[f"K{n}"]["value"]) for n in range(7)] == expected
    assert "unrelated" not in values


def hand_form(value: str, number: float | None, labels=("on track", "at risk", "off track")):
    form = Form(
        id="checkin.form",
        title="Check-in form · 2026-W47",
        fields=(FormField("MKT-1.2", "Email subscribers", "number", value, "at_risk", "", number),),
        submit="Save",
        health_options=tuple(zip(("on_track", "at_risk", "off_track"), labels, strict=True)),
    )
    return Message(title=form.title, form=form)


def test_prefilled_values_come_from_the_fields_number():
    def element(view):
        assert_valid_view(view)
        return next(b for b in view["blocks"] if b.get("block_id") == "MKT-1.2|value")["element"]

    assert element(form_view(hand_form("4.100", 4100.0)))["initial_value"] == "4100"  # Danish
    assert element(form_view(hand_form("4,100", 4100.0)))["initial_value"] == "4100"  # English
    assert element(form_view(hand_form("1,5", 1.5)))["initial_value"] == "1.5"
    assert element(form_view(hand_form("-12.5", -12.5)))["initial_value"] == "-12.5"
    assert "initial_value" not in element(form_view(hand_form("", None)))


def test_a_big_form_stays_within_100_blocks():
    fields = tuple(FormField(f"KR-{n}", f"Result {n}", "number", str(n)) for n in range(60))
    form = Form("checkin.form", "Form", fields, "Save", (("on_track", "on track"),))
    view = form_view(Message(form=form))
    assert_valid_view(view)
    assert len(view["blocks"]) <= 100
    # comments go first, then key results beyond what fits
    assert not any(b.get("block_id", "").endswith("|comment") for b in view["blocks"])
    assert view["blocks"][-1]["type"] == "context"
    kept = view_state_values(submitted(view))
    assert list(kept)[:3] == ["KR-0", "KR-1", "KR-2"] and len(kept) == 49

    small = form_view(Message(form=replace(form, fields=fields[:10])))
    assert_valid_view(small)
    assert sum(b.get("block_id", "").endswith("|comment") for b in small["blocks"]) == 10

    with pytest.raises(ValueError):
        form_view(Message(text="no form"))
    with pytest.raises(ValueError):
        form_view(Message(form=form), private_metadata="x" * 3001)


# --- the App Home --------------------------------------------------------------------------------


async def test_home_view(core):
    anna = await person(core, "anna")
    mine = await core.command(anna, "okr me")
    team = await core.command(anna, "okr marketing")
    view = home_view(mine, team)
    assert_valid_view(view)

    blocks = view["blocks"]
    assert blocks[0]["text"]["text"] == "Mine nøgleresultater"
    (checkin,) = [b for b in buttons(blocks) if b["action_id"] == OPEN_CHECKIN]
    assert checkin["style"] == "primary" and checkin["text"]["text"] == "Check ind nu"
    headers = [b["text"]["text"] for b in blocks if b["type"] == "header"]
    assert headers == ["Mine nøgleresultater", "Marketing · 2026-Q4 · 31 %"]
    team_at = blocks.index(next(b for b in blocks if b["type"] == "header" and b is not blocks[0]))
    mine_part, team_part = blocks[:team_at], blocks[team_at:]
    assert "5 / 12 campaigns" in section_with(mine_part, "*MKT-1.1*")
    assert "*MKT-1.2*" not in "\n".join(texts(mine_part))  # Jonas's, not Anna's
    assert "4.100 / 10.000" in section_with(team_part, "*MKT-1.2*")
    assert blocks[team_at - 1]["type"] == "divider"

    alone = home_view(mine, None, locale="en")
    assert_valid_view(alone)
    assert alone["blocks"][0]["text"]["text"] == "My key results"
    assert buttons(alone["blocks"])[0]["text"]["text"] == "Check in now"


def test_a_huge_home_keeps_the_button_and_100_blocks():
    big = big_message(rows=200)
    view = home_view(big, big)
    assert_valid_view(view)
    assert len(view["blocks"]) <= 100
    ids = [b["action_id"] for b in buttons(view["blocks"])]
    assert ids[0] == OPEN_CHECKIN
    assert len(set(ids)) == len(ids)


# --- the validator itself ------------------------------------------------------------------------

GOOD_SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "ok"}}
BAD_BLOCKS = [
    [],  # no blocks
    [{"type": "carousel"}],  # unknown type
    [{"type": "section"}],  # neither text nor fields
    [{"type": "section", "text": "plain string"}],  # not a text object
    [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
    [{"type": "section", "text": {"type": "mrkdwn", "text": "a < b"}}],  # unescaped
    [{"type": "section", "text": {"type": "mrkdwn", "text": "R&D"}}],  # bare &
    [{"type": "section", "text": {"type": "markdown", "text": "x"}}],
    [{"type": "section", "text": {"type": "mrkdwn", "text": ""}}],
    [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
    [{"type": "header", "text": {"type": "mrkdwn", "text": "bold?"}}],  # header is plain_text
    [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
    [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
    [{"type": "divider", "text": {"type": "plain_text", "text": "x"}}],  # unknown key
    [
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "mrkdwn", "text": "b"}, "action_id": "a"}
            ],
        }
    ],
    [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "x" * 76},
                    "action_id": "a",
                }
            ],
        }
    ],
    [
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "b"}, "action_id": "a"},
                {"type": "button", "text": {"type": "plain_text", "text": "c"}, "action_id": "a"},
            ],
        }
    ],
    [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "b"},
                    "action_id": "a",
                    "style": "secondary",
                }
            ],
        }
    ],
    [{**GOOD_SECTION, "block_id": "same"}, {**GOOD_SECTION, "block_id": "same"}],
    [GOOD_SECTION] * 51,  # too many for a message
    [  # an input block in a message
        {
            "type": "input",
            "label": {"type": "plain_text", "text": "L"},
            "element": {"type": "plain_text_input", "action_id": "c"},
        }
    ],
]


@pytest.mark.parametrize("blocks", BAD_BLOCKS, ids=range(len(BAD_BLOCKS)))
def test_validator_rejects_invalid_blocks(blocks):
    with pytest.raises(AssertionError):
        assert_valid_blocks(blocks)


def modal(*blocks, **keys) -> dict:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Title"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": list(blocks),
        **keys,
    }


def number(**element) -> dict:
    return {
        "type": "input",
        "block_id": "K|value",
        "label": {"type": "plain_text", "text": "Value"},
        "element": {"type": "number_input", "action_id": "value", **element},
    }


OPTIONS = [{"text": {"type": "plain_text", "text": "on track"}, "value": "on_track"}]
BAD_VIEWS = [
    modal(GOOD_SECTION, title={"type": "plain_text", "text": "x" * 25}),
    modal(GOOD_SECTION, title={"type": "mrkdwn", "text": "T"}),
    {"type": "modal", "blocks": [number(is_decimal_allowed=True)]},  # no title
    {
        "type": "modal",
        "title": {"type": "plain_text", "text": "T"},
        "blocks": [number(is_decimal_allowed=True)],
    },  # inputs but no submit
    modal(number()),  # number_input without is_decimal_allowed
    modal(number(is_decimal_allowed=True, initial_value="4.100,5")),
    modal(number(is_decimal_allowed=False, initial_value="4.5")),
    modal(
        {
            "type": "input",
            "label": {"type": "plain_text", "text": "Health"},
            "element": {
                "type": "static_select",
                "action_id": "health",
                "options": OPTIONS,
                "initial_option": {**OPTIONS[0], "value": "at_risk"},
            },
        }
    ),
    modal(GOOD_SECTION, private_metadata="x" * 3001),
    modal(*[GOOD_SECTION] * 101),
    {"type": "home", "blocks": [GOOD_SECTION], "title": {"type": "plain_text", "text": "T"}},
]


@pytest.mark.parametrize("view", BAD_VIEWS, ids=range(len(BAD_VIEWS)))
def test_validator_rejects_invalid_views(view):
    with pytest.raises(AssertionError):
        assert_valid_view(view)


def test_validator_accepts_a_good_modal():
    assert_valid_view(modal(number(is_decimal_allowed=True, initial_value="-4.5")))
