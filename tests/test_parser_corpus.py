"""The labelled reply corpus (tests/corpus/replies.yaml): accuracy per category, and no wrong
write ever (an update the reply did not mean)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from bot.okrs import load_okr_file
from bot.parsing import UPDATES, PromptKR, parse_reply

CORPUS = Path(__file__).parent / "corpus"
REQUIRED_ACCURACY = 0.97
REPORT: list[str] = []  # printed at the end of the run by conftest.pytest_terminal_summary


def prompts() -> dict[str, list[PromptKR]]:
    doc = load_okr_file(CORPUS / "okrs.yaml")
    out: dict[str, list[PromptKR]] = defaultdict(list)
    for objective in doc.objectives:
        for kr in objective.key_results:
            out[kr.owner].append(PromptKR.of(len(out[kr.owner]) + 1, kr, key=kr.id))
    return out


def expected_updates(entry) -> set[tuple]:
    return {
        (u["kr"], round(float(u["value"]), 6), u.get("health"), u.get("confidence"))
        for u in entry["expect"].get("updates") or []
    }


def judge(entry, krs) -> tuple[bool, set[tuple], str]:
    """(right, wrong writes, what the parser said)."""
    result = parse_reply(entry["text"], krs, entry["locale"])
    got = {(u.kr, round(u.value, 6), u.health, u.confidence) for u in result.updates}
    want = expected_updates(entry)
    status_ok = result.status == entry["expect"]["status"]
    right = status_ok and got == want
    if right:
        for label in entry["expect"].get("updates") or []:
            if "comment" in label:
                update = next(u for u in result.updates if u.kr == label["kr"])
                right = right and label["comment"].lower() in (update.comment or "").lower()
    meant = {(kr, value) for kr, value, _, _ in want}
    wrong = {(kr, value) for kr, value, _, _ in got if (kr, value) not in meant}
    if result.status == UPDATES and entry["expect"]["status"] != UPDATES:
        wrong = {(kr, value) for kr, value, _, _ in got}
    said = f"{result.status} {sorted(got)} {result.question or ''}"
    return right, wrong, said


@pytest.mark.parametrize(
    ("corpus", "minimum"),
    [("replies.yaml", 300), ("holdout.yaml", 150)],  # holdout: written apart, never tuned on
)
def test_corpus_accuracy_and_no_wrong_writes(corpus, minimum):
    entries = yaml.safe_load((CORPUS / corpus).read_text(encoding="utf-8"))
    assert len(entries) >= minimum
    members = prompts()
    per_category: dict[str, list[bool]] = defaultdict(list)
    misses, wrong_writes = [], []
    for entry in entries:
        right, wrong, said = judge(entry, members[entry["member"]])
        per_category[entry["category"]].append(right)
        if not right:
            misses.append(
                f"  [{entry['category']}] {entry['member']}/{entry['locale']} "
                f"{entry['text']!r}: want {entry['expect']}, got {said}"
            )
        if wrong:
            wrong_writes.append(f"  {entry['text']!r} ({entry['member']}): {sorted(wrong)}")
    total = sum(len(v) for v in per_category.values())
    correct = sum(sum(v) for v in per_category.values())
    report = [
        f"{corpus}: {correct}/{total} = {correct / total:.1%} "
        f"(required {REQUIRED_ACCURACY:.0%}), wrong writes: {len(wrong_writes)}"
    ]
    for category, results in sorted(per_category.items()):
        report.append(
            f"  {category:22} {sum(results):3}/{len(results):<3} {sum(results) / len(results):6.1%}"
        )
    REPORT.extend(report)
    detail = "\n".join(report + ["misses:"] + misses + ["wrong writes:"] + wrong_writes)
    assert not wrong_writes, detail
    assert correct / total >= REQUIRED_ACCURACY, detail


@pytest.mark.parametrize("member", ["anna", "jonas", "lars", "emma", "sofie", "mikkel", "oliver"])
def test_every_member_of_the_fixture_has_key_results(member):
    assert prompts()[member]
