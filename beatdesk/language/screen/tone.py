"""Tone rules: insults, profanity, mockery and party politics (College of Policing guidance)."""

from __future__ import annotations

import re
from typing import Final

from beatdesk.language.screen.model import Finding
from beatdesk.language.screen.rules import TONE, any_trigger, cue

_INSULT_RE: Final = cue(
    r"idiots?|morons?|moronic|muppets?|clowns?|scum(?:bags?)?|pathetic|stupid|imbeciles?|numpt(?:y|ies)|cretins?"
    r"|low[\s-]?lifes?|vermin|losers?|dickheads?|plonkers?|halfwits?|brainless|thick\s+as|wally|wallies|pillocks?"
)
_PROFANITY_RE: Final = re.compile(
    r"\b(?:fuck\w*|f\*+\w*|sh[i*]t\w*|bollocks|bastards?|crap|piss(?:ed)?|arse|arsehole\w*|twats?|wankers?|bloody|bugger)\b",
    re.IGNORECASE,
)
_MOCK_RE: Final = cue(r"lol|lmao|rofl|haha+|hahaha\w*|what\s+a\s+joke|good\s+luck\s+with\s+that")
_PARTY_RE: Final = re.compile(
    r"\b(?:Tory|Tories|Conservative(?:s|\s+Party|\s+government|\s+council)?|Labour(?:\s+Party|\s+government|\s+council|\s+MP)?"
    r"|Lib\s*Dems?|Liberal\s+Democrats?|Reform\s+UK|SNP|Plaid\s+Cymru|Green\s+Party)\b"
)
_OPINION_RE: Final = cue(
    r"vote|voting|wrecked|ruined|useless|disgrace\w*|pathetic|failed|failure|cuts|brilliant|support|back|blame|fault|thanks\s+to|excuse"
)


def tone(text: str) -> list[Finding]:
    """Insults, profanity, mockery and party politics."""
    out: list[Finding] = []
    low = text.lower()
    insults = any_trigger(
        low,
        (
            "idiot",
            "moron",
            "muppet",
            "clown",
            "scum",
            "pathetic",
            "stupid",
            "imbecile",
            "numpt",
            "cretin",
            "low",
            "vermin",
            "loser",
            "dickhead",
            "plonker",
            "halfwit",
            "brainless",
            "thick as",
            "wall",
            "pillock",
        ),
    )
    for m in _INSULT_RE.finditer(text) if insults else ():
        out.append(
            Finding(
                "tone",
                m.start(),
                m.end(),
                "amber",
                TONE + " Insulting people, even offenders, undermines the force.",
                "Describe the behaviour ('dangerous driving') rather than the person.",
            )
        )
    profane = any_trigger(
        low,
        (
            "fuck",
            "f*",
            "sh",
            "bollocks",
            "bastard",
            "crap",
            "piss",
            "arse",
            "twat",
            "wanker",
            "bloody",
            "bugger",
        ),
    )
    for m in _PROFANITY_RE.finditer(text) if profane else ():
        out.append(
            Finding(
                "tone",
                m.start(),
                m.end(),
                "amber",
                TONE + " Profanity is never appropriate on an official account.",
                "Remove the word.",
            )
        )
    mocking = any_trigger(
        low, ("lol", "lmao", "rofl", "haha", "what a joke", "good luck with that")
    )
    for m in _MOCK_RE.finditer(text) if mocking else ():
        out.append(
            Finding(
                "tone",
                m.start(),
                m.end(),
                "amber",
                TONE + " Mockery reads as the police laughing at the public.",
                "Remove the mockery; keep to the facts and the advice.",
            )
        )
    political = any_trigger(
        text,
        (
            "Tor",
            "Conservative",
            "Labour",
            "Lib",
            "Liberal",
            "Reform",
            "SNP",
            "Plaid",
            "Green Party",
        ),
    )
    for m in _PARTY_RE.finditer(text) if political else ():
        s = text[max(0, m.start() - 60) : m.end() + 60]
        if m.group() == "Labour" and not re.search(r"\bvote\b", s, re.IGNORECASE):
            continue  # "forced labour" etc.; bare "Labour" only counts with "vote"
        opinion = bool(_OPINION_RE.search(s))
        out.append(
            Finding(
                "tone",
                m.start(),
                m.end(),
                "red" if opinion else "info",
                "Political neutrality: police communications must not support or criticise a "
                "political "
                "party (College of Policing Code of Ethics; pre-election period rules).",
                "Remove the party reference or state only neutral facts.",
            )
        )
    return out
