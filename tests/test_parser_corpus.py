"""The labelled reply corpora (tests/corpus/): accuracy per category and per language, and no
wrong write ever (an update the reply did not mean)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from bot.okrfile.schema import load_okr_file
from bot.parsing import UPDATES, PromptKR, parse_reply

CORPUS = Path(__file__).parent / "corpus"
REQUIRED_ACCURACY = 0.97
FIELD_ACCURACY = 0.98  # the field corpus, in each language
# field_holdout2.yaml and field_holdout3.yaml were each measured once and have since been tuned on
# (see corpus/README.md for their figures): they are held to the field accuracy now


def prompts(okrs: str = "okrs.yaml") -> dict[str, list[PromptKR]]:
    doc = load_okr_file(CORPUS / okrs)
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
            update = next(u for u in result.updates if u.kr == label["kr"])
            comment = (update.comment or "").lower()
            if "comment" in label:
                right = right and label["comment"].lower() in comment
            if "comment_is" in label:
                right = right and label["comment_is"].lower() == comment
    meant = {(kr, value) for kr, value, _, _ in want}
    wrong = {(kr, value) for kr, value, _, _ in got if (kr, value) not in meant}
    if result.status == UPDATES and entry["expect"]["status"] != UPDATES:
        wrong = {(kr, value) for kr, value, _, _ in got}
    said = f"{result.status} {sorted(got)} {result.question or ''}"
    return right, wrong, said


CORPORA = [
    # (corpus, OKR file, at least this many entries, required accuracy in each language)
    ("replies.yaml", "okrs.yaml", 300, REQUIRED_ACCURACY),
    ("holdout.yaml", "okrs.yaml", 150, REQUIRED_ACCURACY),  # written apart, never tuned on
    ("field.yaml", "field_okrs.yaml", 200, FIELD_ACCURACY),
    # the first held-out part, measured once (da 59/59, en 57/59) and since then tuning
    ("field_holdout.yaml", "field_okrs.yaml", 100, FIELD_ACCURACY),
    # measured once (en 90.9 %, da 83.9 %), since then tuning
    ("field_holdout2.yaml", "field_okrs.yaml", 150, FIELD_ACCURACY),
    # measured once (en 85.7 %, da 94.2 %, one wrong write), since then tuning
    ("field_holdout3.yaml", "field_okrs.yaml", 200, FIELD_ACCURACY),
    # measured once (en 94.7 %, da 94.6 %, no wrong write), since then tuning
    ("field_holdout4.yaml", "field_okrs.yaml", 200, FIELD_ACCURACY),
    # measured once (en 94.0 %, da 88.0 %, two wrong writes), since then tuning
    ("field_holdout5.yaml", "field_okrs.yaml", 200, FIELD_ACCURACY),
    # measured once (en 100/102, da 100/102: 98.0 % each, no wrong write), since then tuning
    ("field_holdout6.yaml", "field_okrs.yaml", 200, FIELD_ACCURACY),
    # measured once (en 99/103 96.1 %, da 100/103 97.1 %, one wrong write), since then tuning
    ("field_holdout7.yaml", "field_okrs.yaml", 200, FIELD_ACCURACY),
    # measured once (en 99/101, da 99/101: 98.0 % each, no wrong write), since then tuning
    ("field_holdout8.yaml", "field_okrs.yaml", 200, FIELD_ACCURACY),
]


FILES = [
    ("replies.yaml", "okrs.yaml"),
    ("holdout.yaml", "okrs.yaml"),
    ("field.yaml", "field_okrs.yaml"),
    ("field_holdout.yaml", "field_okrs.yaml"),
    ("field_holdout2.yaml", "field_okrs.yaml"),
    ("field_holdout3.yaml", "field_okrs.yaml"),
    ("field_holdout4.yaml", "field_okrs.yaml"),
    ("field_holdout5.yaml", "field_okrs.yaml"),
    ("field_holdout6.yaml", "field_okrs.yaml"),
    ("field_holdout7.yaml", "field_okrs.yaml"),
    ("field_holdout8.yaml", "field_okrs.yaml"),
]


@pytest.mark.parametrize(("corpus", "okrs"), FILES)
def test_corpus_never_writes_a_value_the_reply_did_not_mean(corpus, okrs):
    _, _, wrong_writes = score(corpus, okrs)
    assert not wrong_writes, "\n".join(wrong_writes)


def score(corpus: str, okrs: str) -> tuple[dict, list[str], list[str]]:
    """({(category, locale): [right?]}, misses, wrong writes) of one corpus."""
    entries = yaml.safe_load((CORPUS / corpus).read_text(encoding="utf-8"))
    members = prompts(okrs)
    results: dict[tuple[str, str], list[bool]] = defaultdict(list)
    misses, wrong_writes = [], []
    for entry in entries:
        right, wrong, said = judge(entry, members[entry["member"]])
        results[(entry["category"], entry["locale"])].append(right)
        if not right:
            misses.append(
                f"  [{entry['category']}] {entry['member']}/{entry['locale']} "
                f"{entry['text']!r}: want {entry['expect']}, got {said}"
            )
        if wrong:
            wrong_writes.append(f"  {entry['text']!r} ({entry['member']}): {sorted(wrong)}")
    return results, misses, wrong_writes


CORPUS_REPORT = "corpus report"


def _share(results: list[bool]) -> str:
    return f"{sum(results):3}/{len(results):<3} {sum(results) / len(results):6.1%}"


@pytest.mark.parametrize(("corpus", "okrs", "minimum", "required"), CORPORA)
def test_corpus_accuracy_and_no_wrong_writes(corpus, okrs, minimum, required, record_property):
    results, misses, wrong_writes = score(corpus, okrs)
    total = sum(len(v) for v in results.values())
    assert total >= minimum
    by_locale: dict[str, list[bool]] = defaultdict(list)
    by_category: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for (category, locale), rights in results.items():
        by_locale[locale] += rights
        by_category[category][locale] += rights
    correct = sum(sum(v) for v in by_locale.values())
    languages = ", ".join(f"{loc} {_share(v).strip()}" for loc, v in sorted(by_locale.items()))
    report = [
        f"{corpus}: {correct}/{total} = {correct / total:.1%} ({languages}; required "
        f"{required:.0%} in each), wrong writes: {len(wrong_writes)}"
    ]
    for category, locales in sorted(by_category.items()):
        both = [r for rights in locales.values() for r in rights]
        split = "  ".join(f"{loc} {_share(v)}" for loc, v in sorted(locales.items()))
        report.append(f"  {category:22} {_share(both)}   {split}")
    record_property(CORPUS_REPORT, report)  # printed at the end of the run (conftest)
    detail = "\n".join(report + ["misses:"] + misses + ["wrong writes:"] + wrong_writes)
    assert not wrong_writes, detail
    for rights in by_locale.values():
        assert sum(rights) / len(rights) >= required, detail


@pytest.mark.parametrize("member", ["anna", "jonas", "lars", "emma", "sofie", "mikkel", "oliver"])
def test_every_member_of_the_fixture_has_key_results(member):
    assert prompts()[member]


@pytest.mark.parametrize(
    "member",
    ["ruth", "omar", "priya", "tom", "lena", "sam", "karen", "soren", "mette", "jakob", "ida"]
    + ["nina", "marcus", "freja", "chloe", "astrid", "leo", "signe", "owen", "maja"],
)
def test_every_member_of_the_field_fixture_has_key_results(member):
    assert prompts("field_okrs.yaml")[member]
