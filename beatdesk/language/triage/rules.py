"""Hand-written police lexicons that the statistical models cannot learn from public data.

The public training sets (crisis tweets, airline customers, offensive tweets, SMS spam)
contain almost no messages from the public *to the police*, so threats to life, self-harm,
crimes in progress, intelligence and missing-person sightings get explicit patterns here.
Each rule has a human-readable signal; ``match_rules`` returns the signals that fired,
grouped by the label they support and by strength:

- ``"life"``: threat to life or crime in progress with immediacy: forces P1.
- ``"urgent"``: serious but not demonstrably immediate (a weapon seen, a vulnerable person
  gone): floor P2; lifts its label's score to ``RULE_SCORE`` unless the label is emergency
  (whose score decides P1).
- ``"label"``: evidence for a label (lifts that label's score to at least ``RULE_SCORE``).

Patterns are deliberately conservative: each one needs a first-hand, present-tense or
addressed-to-police shape, so that news about a shooting or a film about a stabbing does
not fire them. They are checked by ``tests/language/test_triage.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RULE_SCORE = 0.8
LIFE_SCORE = 0.95


@dataclass(frozen=True)
class Rule:
    """One pattern: the label it supports, its strength and the signal shown to staff."""

    label: str
    strength: str  # "life", "urgent" or "label"
    signal: str
    pattern: re.Pattern[str]


def _rx(*alternatives: str) -> re.Pattern[str]:
    """Compile the alternatives as one case-insensitive pattern (one per line for review)."""
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)


_WEAPON = (
    r"(?:knife|knives|machete|blade|gun|shotgun|firearm|pistol|axe|hammer|baseball bat"
    r"|crowbar|acid)"
)
_NOW = r"(?:right now|now|at the moment|as we speak|in progress|happening|currently|just now)"
_PERSON = r"(?:me|him|her|us|them|you|my \w+|someone|somebody|people|everyone|anyone)"
_WHO = r"(?:he|she|they|someone|somebody|a man|a woman|guy|lad|lads|bloke|man)"
_HOLDS = r"(?:got|holding|carrying|waving|pointing|pulled|pulled out)"

# fmt: off
RULES: tuple[Rule, ...] = (
    # Threat to life / crime in progress -------------------------------------------------
    Rule("emergency", "life", "someone has a weapon", _rx(
        rf"\b{_WHO}(?:'s| has| have|'ve| is| are)?\s+{_HOLDS}"
        rf" (?:a |an |his |her |their )?{_WEAPON}",
        # "a man with a knife shouting outside the shop right now": armed, here, now
        rf"\b{_WHO} with (?:a |an )?{_WEAPON}\b.{{0,80}}"
        rf"(?:\b{_NOW}\b|\boutside\b|\bshouting\b|\bthreatening\b|\bchasing\b)",
    )),
    Rule("emergency", "life", "weapon used against a person", _rx(
        r"\b(?:waving|pointing|pointed|brandishing|threatening \w+ with|attacking \w+ with"
        rf"|swinging) (?:a |an |his |her )?{_WEAPON}",
    )),
    Rule("emergency", "life", "threat to kill", _rx(
        r"\b(?:going to|gonna|will|wants to|threaten(?:ed|ing)? to|coming (?:round |over )?to)"
        rf" (?:kill|stab|shoot|murder|hurt) {_PERSON}",
        # "says he'll kill me", "said she'd stab him"
        rf"\b(?:he|she|they|{_WHO})(?:'ll|\u2019ll|'d|\u2019d| would) (?:kill|stab|shoot|murder)"
        rf" {_PERSON}",
    )),
    Rule("emergency", "life", "self-harm or suicide risk", _rx(
        r"\bkill (?:myself|himself|herself)",
        r"\bend (?:it all|my life|his life|her life)",
        r"\bsuicid(?:e|al)(?! bomb| attack| vest)",  # "suicide bomber" is news, not self-harm
        r"\btaken? an overdose|\boverdos\w+|\bself[- ]harm\w*|\bwants? to die",
        r"\b(?:threatening|going) to jump|\bjump off (?:the|a) (?:bridge|roof|car park|multi)",
        # overdose intent and the farewell phrases of suicide-prevention guidance
        r"\b(?:i'?m going to|i'?m gonna|i will|i'?ll|i'?ve|i have|i|about to|going to|gonna)"
        r" (?:just )?(?:take|swallow|took|taken|swallowed)"
        r" (?:them all|all (?:the |my |of )?(?:my )?(?:pills|tablets))",
        r"\bcan'?t (?:go on|do this|cope|take (?:it|this)) any ?more\b.*"
        r"\b(?:pills|tablets|rope|end|die)\b",
        r"\b(?:no reason to live|better off without me|nobody will miss me|say(?:ing)? goodbye to"
        r" (?:everyone|you all))",
    )),
    Rule("emergency", "life", "violence happening now", _rx(
        r"\bbeing (?:attacked|stabbed|beaten|assaulted|followed|dragged|kidnapped|raped)",
        r"\b(?:just )?been (?:stabbed|shot)\b|\bshots? fired",
        rf"\b(?:stabbing|shooting|fight|attack)\w* {_NOW}",
    )),
    Rule("emergency", "life", "intruder in the house", _rx(
        r"\bbreak(?:ing)? in(?:to)? (?:my|our|the) (?:house|home|flat)",
        r"\b(?:someone|somebody|men|man)(?:'s| is| are)? (?:trying to break|breaking) in",
        r"\bhiding (?:upstairs|in the)|\bin my house right now",
    )),
    Rule("emergency", "life", "crime in progress", _rx(
        r"\b(?:in progress|happening (?:right )?now|as we speak)\b",
    )),
    Rule("emergency", "life", "call for help", _rx(
        r"(?:^|[.!]\s*)(?:please )?help(?: me| us)?\s*(?:!|please|now|quick)",
        r"\bplease (?:hurry|send (?:someone|help|police|an ambulance))\b",
        r"\bsend (?:help|someone) now\b",
    )),
    Rule("emergency", "life", "person in danger", _rx(
        r"\b(?:someone|somebody|people|person|child|kids?)(?: is| are|'s)? (?:still )?"
        r"(?:inside|trapped)\b",
        r"\bnot (?:moving|breathing)\b|\bblood everywhere\b|\bbleeding (?:badly|heavily|a lot)\b",
    )),
    Rule("emergency", "urgent", "a weapon seen nearby", _rx(
        r"\b(?:i|we)(?: have|'ve)? (?:just )?(?:saw|seen|spotted|noticed) (?:\w+ ){0,6}?"
        rf"(?:with|carrying|holding|has|had) (?:a |an )?{_WEAPON}",
        rf"\b(?:carrying|carries|concealing|hiding) (?:a |an )?{_WEAPON}",
    )),
    Rule("missing_person", "urgent", "vulnerable person gone", _rx(
        r"\b(?:dementia|alzheimer'?s|confused|vulnerable)\b.*"
        r"\b(?:missing|gone|wander(?:ed)?|walked out|left)\b",
        r"\b(?:missing|wandered off|walked out|wandered away)\b.*"
        r"\b(?:dementia|alzheimer'?s|confused|vulnerable)\b",
    )),
    # Crime report ------------------------------------------------------------------------
    Rule("crime_report", "label", "reports a crime", _rx(
        r"\b(?:want|like|need) to report\b|\bhow (?:do|can) i report\b",
        r"\bbeen (?:burgled|robbed|mugged|scammed|assaulted|attacked)\b",
        r"\b(?:was|were|got|been|has been|have been) (?:stolen|nicked|taken|broken into|keyed"
        r"|vandalised|smashed)\b",
        r"\b(?:stole|nicked|robbed|broke into|smashed) (?:my|our)\b|\bhate crime\b",
        r"\bcrime reference\b",
    )),
    # Intelligence ------------------------------------------------------------------------
    Rule("intelligence", "label", "drug dealing or county lines", _rx(
        r"\b(?:dealing|dealers?|selling (?:drugs|weed|coke|pills|cannabis)|county lines?)\b",
        r"\b(?:cuckoo\w*|cannabis farm|drug (?:den|house|runners?)|run(?:ning)? drugs)\b",
    )),
    Rule("intelligence", "label", "whereabouts of a wanted person", _rx(
        r"\b(?:wanted|you'?re looking for|your appeal)\b.*"
        r"\b(?:staying|hiding|lives|living|drinks|seen|at his|at her)\b",
    )),
    Rule("intelligence", "label", "information about offending", _rx(
        r"\bi know who (?:did|done|stole|robbed)\b|\bstolen goods\b|\bstolen cars?\b",
        r"\btrafficked\b|\bhiding a (?:gun|knife|weapon)\b",
    )),
    # Missing person ----------------------------------------------------------------------
    Rule("missing_person", "label", "missing person sighting", _rx(
        r"\b(?:saw|seen|spotted|sighting|i think i (?:just )?saw)\b.*\bmissing\b",
        r"\bmissing (?:girl|boy|man|woman|lad|teen\w*|person|pensioner|child)\b.*"
        r"\b(?:was|is|at|on|near)\b",
    )),
    Rule("missing_person", "label", "reports someone missing", _rx(
        r"\b(?:has gone missing|gone missing|been missing|is missing|missing since|last seen)\b",
        r"\b(?:didn'?t|hasn'?t|has not|did not) come home\b",
    )),
)
# fmt: on


def match_rules(text: str) -> list[Rule]:
    """Return the rules whose pattern occurs in ``text``, in declaration order."""
    return [rule for rule in RULES if rule.pattern.search(text)]
