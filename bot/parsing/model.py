"""What the reply parser reads and returns (SPEC §5)."""

from __future__ import annotations

from dataclasses import dataclass, field

UPDATES, NO_CHANGE, SKIP, CLARIFY, UNRECOGNIZED = (
    "updates",
    "no_change",
    "skip",
    "clarify",
    "unrecognized",
)


@dataclass(frozen=True)
class PromptKR:
    """A key result as the member saw it in the prompt (position 1..n, file order)."""

    position: int
    key: str
    title: str
    type: str = "metric"
    unit: str | None = None
    start: float | None = None
    target: float | None = None
    current: float | None = None
    min: float | None = None
    max: float | None = None
    weight: float = 1.0

    @classmethod
    def of(cls, position: int, kr, key: str | None = None) -> PromptKR:
        """From a key-result row or an OKR-file spec (whose id is `id`, a row's is `key`)."""
        return cls(
            position=position,
            key=key or kr.key,
            title=kr.title,
            type=kr.type,
            unit=kr.unit,
            start=kr.start,
            target=kr.target,
            current=kr.current,
            min=kr.min,
            max=kr.max,
            weight=kr.weight,
        )


@dataclass(frozen=True)
class Update:
    kr: str
    value: float
    health: str | None = None
    confidence: float | None = None
    comment: str | None = None

    def as_json(self) -> dict:
        value = int(self.value) if float(self.value).is_integer() else self.value
        return {
            "kr": self.kr,
            "value": value,
            "health": self.health,
            "confidence": self.confidence,
            "comment": self.comment,
        }


@dataclass(frozen=True)
class Pending:
    """What a question holds until the member's next message answers it.

    kind "which": the answer picks one of `candidates` and `text` is read again for it.
    kind "confirm": `updates` are complete and wait for a yes.
    """

    kind: str
    candidates: tuple[str, ...] = ()
    updates: tuple[Update, ...] = ()
    text: str = ""  # kind "which": the clause to read again once the key result is known

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "candidates": list(self.candidates),
            "updates": [u.as_json() for u in self.updates],
            "text": self.text,
        }

    @classmethod
    def from_json(cls, data: dict) -> Pending:
        return cls(
            kind=data["kind"],
            candidates=tuple(data.get("candidates", ())),
            updates=tuple(Update(**u) for u in data.get("updates", ())),
            text=data.get("text", ""),
        )


@dataclass(frozen=True)
class ParseResult:
    status: str
    updates: tuple[Update, ...] = ()
    question: str | None = None
    pending: Pending | None = field(default=None, compare=False)

    def as_json(self, text: str) -> dict:
        """The line `okrbot parse` writes (SPEC §5)."""
        return {
            "text": text,
            "status": self.status,
            "updates": [u.as_json() for u in self.updates],
            "question": self.question,
        }
