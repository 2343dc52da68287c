"""Where a public profile says its owner is: the stated location, or a place named in
the biography ("📍 Eccles", "Salford born and bred", "based in Stockport").

Only the phrase is returned; ``locate`` decides whether it is a UK place. A biography
with no place cue gives "" rather than a guess: reading "Love Manchester United" as a
place would count strangers as local.
"""

from __future__ import annotations

import re

# Words never contain the separator ("-" or space), so the patterns cannot backtrack
# catastrophically on hostile biographies ("A-A-A-...").
_WORD = r"[A-Z][\w'\u2019.]*"
# Between words: a space or hyphen, or a lower-case joiner ("Stoke-on-Trent").
_JOIN = r"(?:[ -]|-(?:on|upon|under|le|in|by|the|super|en)-)"
_PLACE = rf"({_WORD}(?:{_JOIN}{_WORD}){{0,3}}(?:,\s*{_WORD}(?:{_JOIN}{_WORD}){{0,2}})?)"
_CUES = [
    re.compile(r"(?:📍|🏠|🏡|📌)\s*([^|•·\n/]{2,60})"),
    re.compile(
        rf"\b(?:[Bb]ased|[Ll]iving|[Ll]ives|[Ll]ive|[Rr]esident|[Ww]ork(?:ing|s)?) in {_PLACE}"
    ),
    re.compile(rf"\b(?:[Ll]ocation|[Hh]ome|[Ll]oc)\s*[:\-\u2013]\s*{_PLACE}"),
    re.compile(rf"\b{_PLACE},? born (?:and|&) (?:bred|raised)"),
    re.compile(rf"\b(?:[Ff]rom|[Pp]roud) {_PLACE}(?= *(?:[.,;!|•·\n]|$| and | &))"),
]
MAX_DESCRIPTION = 300
_TRAILING = re.compile(r"[\s,.;:!|•·\u2013-]+$")


def stated_place(location: str, description: str = "") -> str:
    """The place text to resolve for a profile: its location field when filled, else
    the first cued place in its biography, else ""."""
    location = location.strip()
    if location:
        return location[:120]
    for cue in _CUES:
        found = cue.search((description or "")[:MAX_DESCRIPTION])
        if found:
            return _TRAILING.sub("", found.group(1).strip())[:120]
    return ""
