"""Tone rules: insults, profanity, mockery and party politics (College of Policing guidance)."""

from __future__ import annotations

import re
from typing import Final

from beatdesk.language.screen.model import Finding
from beatdesk.language.screen.rules import TONE, any_trigger, cue

_INSULT_RE: Final = cue(
    r"idiots?|morons?|moronic|muppets?|clowns?|scum(?:bags?)?|pathetic|stupid|imbeciles?|numpt(?:y|ies)|cretins?"
    r"|low[\s-]?lifes?|vermin|losers?|dickheads?|plonkers?|halfwits?|brainless|thick\s+as|wally|wallies|pillocks?"
    r"|knobheads?|nobheads?|bellends?|tossers?|wazzocks?|gobshites?|scrotes?|scrotums?|toe[\s-]?rags?|wrong'?uns?"
    r"|numbskulls?|dimwits?|nitwits?|chavs?|scallies|scally"
)
_PROFANITY_RE: Final = re.compile(
    r"\b(?:fuck\w*|sh[i*]t\w*|bollocks|bastards?|crap|piss(?:ed)?|arse|arsehole\w*|twats?|wankers?|bloody|bugger"
    r"|feck\w*|frigging|effing|bleeding)\b"
    # starred: "f***", "s***", "b*****d" (two stars or more), "f*ck", "sh*t" (a star
    # inside a short word); not emphasis like "*did*"
    r"|(?<!\*)\b[a-z]{1,3}\*{2,}[a-z]{0,6}(?![\w*])|(?<!\*)\b[a-z]{1,2}\*[a-z]{1,4}\b(?!\*)",
    re.IGNORECASE,
)
_MOCK_RE: Final = cue(r"lol|lmao|rofl|haha+|hahaha\w*|what\s+a\s+joke|good\s+luck\s+with\s+that")
# Talking down to the public: the people a force serves, not offenders.
_DISMISS_RE: Final = re.compile(
    r"\b(?:keyboard\s+(?:warriors?|heroes|experts?)|armchair\s+(?:detectives?|experts?|critics?|warriors?)"
    r"|do\s+something\s+(?:useful|productive)(?:\s+for\s+once)?|get\s+a\s+life|get\s+off\s+(?:facebook|twitter|x"
    r"|social\s+media|your\s+(?:phone|sofa|backside|high\s+horse)|the\s+sofa)|(?:stop|quit)\s+(?:moaning|whining"
    r"|whingeing|whinging|complaining|crying)|moaners|whingers|snowflakes?|wind\s+your\s+neck\s+in"
    r"|cry\s+(?:more|about\s+it)|for\s+once\s+in\s+your\s+li(?:fe|ves)|touch\s+grass|nobody\s+cares|get\s+over\s+it"
    r"|boo[\s-]hoo|diddums|some\s+people\s+(?:need\s+to|should)\s+(?:grow\s+up|get))\b|🙄|🤦",
    re.IGNORECASE,
)
_PARTY_RE: Final = re.compile(
    r"\b(?:Tory|Tories|Conservative(?:s|\s+Party|\s+government|\s+council)?|Labour(?:\s+Party|\s+government|\s+council|\s+MP)?"
    r"|Lib\s*Dems?|Liberal\s+Democrats?|Reform\s+UK|SNP|Plaid\s+Cymru|Green\s+Party)\b"
)
_OPINION_RE: Final = cue(
    r"vote|voting|voters?|wrecked|ruined|useless|disgrace\w*|pathetic|failed|failure|failing|cuts|brilliant"
    r"|support(?:s|ed|ing)?|back(?:s|ed|ing)?|blame\w*|fault|thanks\s+to|excuse|endors\w*|champion\w*|truly"
    r"|only\s+party|best\s+party|let\s+(?:us|you)\s+down|betray\w*"
)
# Backing a party or candidate, or steering votes, even without naming one.
_ENDORSE_RE: Final = re.compile(
    r"\b(?:the\s+)?only\s+(?:party|candidate|politicians?)\b[^.!?\n]{0,60}"
    r"|\b(?:party|candidate)\s+(?:that|who)\s+(?:\w+\s+){0,2}(?:backs|supports|cares|stands\s+up|listens|gets\s+it)"
    r"\b[^.!?\n]{0,40}"
    r"|\b(?:best|right|only)\s+(?:party|candidate|choice)\s+(?:for|to)\b[^.!?\n]{0,40}"
    r"|\b(?:voters?|you|residents|people|everyone|electors?)\s+(?:will\s+|to\s+|should\s+|must\s+|can\s+)?"
    r"(?:remember|think\s+(?:about|of)|bear\s+in\s+mind|(?:don't|do\s+not|not)\s+forget)\b[^.!?\n]{0,60}?"
    r"\b(?:vote|voting|ballot(?:\s+box)?|polls|polling|election)\b",
    re.IGNORECASE,
)


def tone(text: str) -> list[Finding]:
    """Insults, profanity, mockery (of offenders or the public) and party politics."""
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
            "knob",
            "nobhead",
            "bellend",
            "tosser",
            "wazzock",
            "gobshite",
            "scrot",
            "rag",
            "wrong",
            "skull",
            "wit",
            "chav",
            "scall",
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
            "*",
            "feck",
            "frigging",
            "effing",
            "bleeding",
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
    dismissive = any_trigger(
        low,
        (
            "keyboard",
            "armchair",
            "something useful",
            "something productive",
            "get a life",
            "get off",
            "moan",
            "whin",
            "snowflake",
            "wind your neck",
            "cry more",
            "cry about",
            "for once in your",
            "touch grass",
            "nobody cares",
            "get over it",
            "boo hoo",
            "boo-hoo",
            "diddums",
            "some people",
            "🙄",
            "🤦",
        ),
    )
    for m in _DISMISS_RE.finditer(text) if dismissive else ():
        out.append(
            Finding(
                "tone",
                m.start(),
                m.end(),
                "amber",
                TONE + " Talking down to the public reads as the force mocking the people it "
                "serves.",
                "Acknowledge the concern and give facts or a way to help instead.",
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
    steering = any_trigger(
        low,
        (
            "only party",
            "only candidate",
            "only politic",
            "party that",
            "party who",
            "candidate that",
            "candidate who",
            "party for",
            "party to",
            "choice for",
            "choice to",
            "candidate for",
            "candidate to",
            "vote",
            "ballot",
            "polls",
            "polling",
            "election",
        ),
    )
    for m in _ENDORSE_RE.finditer(text) if steering else ():
        party = bool(_PARTY_RE.search(text))
        out.append(
            Finding(
                "tone",
                m.start(),
                m.end(),
                "red" if party else "amber",
                "Political neutrality: police communications must not back a party or "
                "candidate or tell people how to vote (College of Policing Code of Ethics; "
                "pre-election period rules).",
                "Remove the endorsement; keep to neutral facts about policing.",
            )
        )
    return out
