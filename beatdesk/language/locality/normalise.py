"""Text normalisation shared by the index build and the resolver.

The build and the runtime must fold names identically, so both call :func:`fold`.
"""

from __future__ import annotations

import re
import unicodedata

# Characters that separate the parts of a free-text location ("Leeds/Bradford",
# "Leeds | Paris", "Salford, UK"). A hyphen is a separator only with spaces round it,
# because it joins names ("Stoke-on-Trent").
_STRONG_SEPARATORS = re.compile(
    r"\s+[-\u2013\u2014]+\s+|[-\u2013\u2014]{2,}|//+|[,;|/\\()\[\]{}<>\u2022\u00b7\u2192\u2190"
    r"\u21c6\u2194~!?\"\u201c\u201d:+*=_\n\t]|(?<=[A-Za-z]{3})\.(?=\s|$|[A-Za-z]{3})|\.{2,}"
)
# Words that join two places inside one part ("Bath & Bristol", "Leeds and York").
_WEAK_SEPARATORS = re.compile(r"\s+(?:&|and|or|x|via|to|in|then|now)\s+|&")
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_APOSTROPHES = re.compile(r"['\u2019\u2018`\u00b4]")


def fold(text: str) -> str:
    """Fold a name for lookup: lower case, no diacritics, no punctuation, single spaces.

    ``"St. Helen's"`` and ``"st helens"`` fold alike; ``"&"`` becomes ``"and"``; a
    standalone ``"saint"`` becomes ``"st"``.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    lowered = ascii_only.casefold().replace("&", " and ")
    lowered = _APOSTROPHES.sub("", lowered)
    lowered = lowered.replace(".", "")
    words = _NOT_WORD.sub(" ", lowered).split()
    return " ".join("st" if word == "saint" else word for word in words)


def _is_symbol(ch: str) -> bool:
    category = unicodedata.category(ch)
    # Emoji, dingbats, other symbols and private-use characters carry no place name but
    # often sit between names ("Leeds \u2708 Paris").
    return category in {"So", "Sk", "Sm", "Cs", "Co", "Cf"} and ch not in "&"


def split_parts(text: str) -> list[tuple[bool, list[str]]]:
    """Split a location into strong segments, each with its weakly split candidates.

    Returns ``(after_comma, variants)`` per segment: ``after_comma`` is True when a comma
    (the usual way to qualify a place: "Swinton, Salford") separates it from the previous
    segment; ``variants[0]`` is the whole segment and the rest its weakly separated pieces
    (tried only when the whole segment is not a known name). Strings are folded; empty
    segments are dropped.
    """
    cleaned = "".join(" | " if _is_symbol(ch) else ch for ch in text)
    segments: list[tuple[bool, list[str]]] = []
    position = 0
    separator = ""
    for match in [*_STRONG_SEPARATORS.finditer(cleaned), None]:
        end = match.start() if match is not None else len(cleaned)
        raw = cleaned[position:end]
        # Handles and addresses are not places; a hashtag may be ("#Hull").
        words = [w for w in raw.split() if "@" not in w and "www" not in w.lower()]
        raw_clean = " ".join(w.lstrip("#") for w in words)
        whole = fold(raw_clean)
        if whole:
            pieces = [fold(piece) for piece in _WEAK_SEPARATORS.split(raw_clean)]
            variants = [whole, *[p for p in pieces if p and p != whole]]
            segments.append((separator.strip() == ",", variants))
            separator = ""
        if match is not None:
            separator += match.group(0)
            position = match.end()
    return segments
