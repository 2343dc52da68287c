"""Accuracy during incidents: figures in a post against the confirmed-facts sheet."""

from __future__ import annotations

import re
from typing import Final

from beatdesk.language.screen.model import Finding, ScreenContext
from beatdesk.language.screen.rules import span_overlaps

_NUMBER_WORDS: Final = {
    "no": 0,
    "none": 0,
    "one": 1,
    "a": 1,
    "an": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "dozen": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "twenty": 20,
}
FACT_CATEGORIES: Final = {
    "deaths": r"died|dead|deaths?|killed|fatalit(?:y|ies)|lost\s+their\s+lives|fatal(?:ly)?",
    "injured": r"injur(?:ed|ies)|hurt|casualt(?:y|ies)|wounded|hospital",
    "arrests": r"arrest(?:s|ed)?|detained",
    "missing": r"missing|unaccounted",
}
_CATEGORY_ALIASES: Final = {
    "death": "deaths",
    "dead": "deaths",
    "fatalities": "deaths",
    "killed": "deaths",
    "injuries": "injured",
    "casualties": "injured",
    "hurt": "injured",
    "arrested": "arrests",
    "arrest": "arrests",
}
_NUM: Final = r"(\d+|" + "|".join(k for k in _NUMBER_WORDS if len(k) > 2) + r")"


def _category_of(key: str) -> str | None:
    k = key.lower().strip()
    if k in FACT_CATEGORIES:
        return k
    if k in _CATEGORY_ALIASES:
        return _CATEGORY_ALIASES[k]
    for cat, pattern in FACT_CATEGORIES.items():
        if re.search(pattern, k):
            return cat
    return None


def _claims(text: str) -> list[tuple[str, int, int, int]]:
    """(category, number, start, end) for 'NUMBER ... KEYWORD' or 'KEYWORD ... NUMBER'.

    The number and the keyword must be within six words of each other.
    """
    out: list[tuple[str, int, int, int]] = []
    for cat, pattern in FACT_CATEGORIES.items():
        for m in re.finditer(
            r"\b"
            + _NUM
            + r"\b(?:\s+[\w-]+){0,5}?\s+"
            + r"(?:have\s+been\s+|has\s+been\s+|were\s+|was\s+|been\s+|have\s+)?(?:"
            + pattern
            + r")\b|\b(?:"
            + pattern
            + r")\b(?:\s+[\w-]+){0,1}?\s+"
            + _NUM
            + r"\b(?!\s*(?:am|pm|:))",
            text,
            re.IGNORECASE,
        ):
            raw = (m.group(1) or m.group(2)).lower()
            value = int(raw) if raw.isdigit() else _NUMBER_WORDS.get(raw)
            if value is not None:
                out.append((cat, value, m.start(), m.end()))
    return out


def confirmed_numbers(facts: object) -> dict[str, int]:
    """Category -> number from a mapping or from a list of fact sentences."""
    found: dict[str, int] = {}
    if isinstance(facts, dict):
        for key, value in facts.items():
            cat = _category_of(str(key))
            if cat is None:
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                found[cat] = value
            elif isinstance(value, str) and value.strip().isdigit():
                found[cat] = int(value.strip())
    elif isinstance(facts, list):
        for fact in facts:
            if isinstance(fact, str):
                for cat, value, _, _ in _claims(fact):
                    found.setdefault(cat, value)
    return found


def accuracy(text: str, context: ScreenContext) -> list[Finding]:
    """Numbers that contradict the confirmed facts (only when facts are given)."""
    if context.confirmed_facts is None:
        return []
    facts = confirmed_numbers(context.confirmed_facts)
    out: list[Finding] = []
    seen: set[tuple[int, int]] = set()
    for cat, value, start, end in _claims(text):
        if cat in facts and facts[cat] != value and not span_overlaps(start, end, seen):
            seen.add((start, end))
            out.append(
                Finding(
                    "accuracy",
                    start,
                    end,
                    "red" if context.incident_active else "amber",
                    f"This says {value} for {cat}, but the confirmed facts say {facts[cat]}. "
                    "During an "
                    "incident only confirmed facts may be published; wrong figures feed rumour.",
                    f"Use the confirmed figure ({facts[cat]}) or say 'we will update when "
                    "confirmed'.",
                )
            )
    return out
