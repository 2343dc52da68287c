"""Context rules: names, victims, children, contempt, operational detail, tone, accuracy.

Police posts legitimately name people every day (charged and convicted adults, wanted
suspects, officers, the dead with their families' consent). The rules therefore judge a
name by what the text says about the person, and reserve red for the situations the law
protects: sexual-offence victims, children in criminal matters, live proceedings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from beatdesk.language.screen.model import Finding, ScreenContext, Severity
from beatdesk.language.screen.names import NameSpan

GDPR: Final = "UK GDPR and the Data Protection Act 2018"
SOA_1992: Final = (
    "Victims of sexual offences have lifelong anonymity under the Sexual Offences "
    "(Amendment) Act 1992: nothing may be published that is likely to identify them, even "
    "with a first name, age, school, street or workplace."
)
CHILDREN: Final = (
    "Children in criminal matters are protected by reporting restrictions (Children and "
    "Young Persons Act 1933 s.49 for youth court; Youth Justice and Criminal Evidence Act "
    "1999 s.45): do not publish a name, school, address or anything that identifies them."
)
CONTEMPT: Final = (
    "Once someone is charged, proceedings are active and the Contempt of Court Act 1981 "
    "makes it a strict-liability offence to publish anything that creates a substantial "
    "risk of serious prejudice: presuming guilt, attacking character or mentioning "
    "previous convictions."
)
OPSEC: Final = (
    "Operational security: this could warn offenders or put officers or the public at risk."
)
TONE: Final = (
    "College of Policing guidance on social media: posts must be professional, courteous "
    "and politically neutral; insults, mockery and profanity damage trust in the force."
)

_SENTENCE_RE: Final = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")


def sentences(text: str) -> list[tuple[int, int]]:
    """Character ranges of rough sentences (split on . ! ? and newlines)."""
    return [(m.start(), m.end()) for m in _SENTENCE_RE.finditer(text) if m.group().strip()]


def sentence_of(spans: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    for a, b in spans:
        if a <= pos < b:
            return a, b
    return 0, 0


def any_trigger(low: str, triggers: tuple[str, ...]) -> bool:
    """Cheap pre-check: can any pattern guarded by ``triggers`` match the lower-cased text?

    Why: substring tests run in C and skip most regular expressions on most posts, which
    is what keeps the screen above 2,000 posts per second.
    """
    for trigger in triggers:  # noqa: SIM110 - a plain loop is measurably faster than any()
        if trigger in low:
            return True
    return False


_DECEASED_BEFORE_RE: Final = re.compile(
    r"\b(?:(?:death|murder|killing|manslaughter|funeral)\s+of|tribute\s+to|family\s+of|killed|murdered"
    r"|named\b[^.]{0,80}\bas)\s+(?:the\s+|a\s+)?(?:\d{1,2}[\s-]*(?:years?|yrs?)[\s-]*old\s+)?"
    r"(?:[a-z]+\s+)?$",
    re.IGNORECASE,
)
_DECEASED_AFTER_RE: Final = re.compile(
    r"^[\s,]*(?:\(?\d{1,2}\)?[\s,]*)?(?:who\s+)?(?:was\s+|has\s+|had\s+)?(?:sadly\s+)?"
    r"(?:died|pronounced\s+dead|killed|fatally|stabbed\s+to\s+death|passed\s+away|lost\s+(?:his|her)\s+life)",
    re.IGNORECASE,
)


def _is_deceased(text: str, name: NameSpan) -> bool:
    """Is the person named presented as having died ("the murder of Sam Lee, 16")?"""
    before = text[max(0, name.start - 120) : name.start]
    after = text[name.end : name.end + 60]
    return bool(_DECEASED_BEFORE_RE.search(before) or _DECEASED_AFTER_RE.match(after))


SEXUAL_TRIGGERS: Final = ("rap", "sex", "indecen", "voyeur", "upskirt", "groom", "fgm")
MISSING_TRIGGERS: Final = ("missing", "last seen", "concern for", "have you seen", "found")


def cue(words: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + words + r")\b", re.IGNORECASE)


SEXUAL_RE: Final = cue(
    r"rape[sd]?|raping|sexual(?:ly)?\s+(?:assault(?:ed|s)?|abused?|offen[cs]es?|attack(?:ed)?|touch(?:ing|ed))"
    r"|sex\s+(?:attack|assault|offen[cs]es?)|indecent(?:ly)?\s+(?:assault(?:ed)?|exposure|expos(?:ed|ing))"
    r"|voyeurism|upskirting|groom(?:ed|ing)|sexual\s+activity\s+with|fgm|child\s+sexual"
)
VICTIM_RE: Final = cue(
    r"victims?|survivors?|complainants?|who\s+was\s+(?:raped|sexually|indecently|attacked|assaulted)"
    r"|reported\s+being|was\s+raped|(?:she|he)\s+was\s+(?:raped|attacked|assaulted)|is\s+being\s+supported"
    r"|supported\s+by\s+(?:specialist|officers)|wants?\s+to\s+thank|was\s+attacked"
)
DEFENDANT_RE: Final = cue(
    r"charged|arrested|jailed|sentenced|convicted|wanted|suspects?|accused|pleaded|guilty|remanded"
    r"|appear(?:s|ed)?\s+(?:at|before)|defendant|offender|detained|imprisoned|locked\s+up|caught"
)
CRIMINAL_RE: Final = cue(
    r"arrest(?:ed)?|charged|suspect(?:ed)?|offen[cs]es?|court|robbery|burglary|stabb(?:ed|ing)|assault(?:ed)?"
    r"|knife|crime|convicted|sentenced|reprimand(?:ed)?|youth\s+court|theft|criminal|vandalism"
    r"|attack(?:ed)?|victim|raped?|sexual(?:ly)?|injur(?:ed|ies)|bail|custody|weapon"
)
MISSING_RE: Final = cue(
    r"missing|last\s+seen|concern\s+for|have\s+you\s+seen|found\s+safe|been\s+found"
)
JUSTIFIED_NAME_RE: Final = cue(
    r"charged|jailed|sentenced|convicted|wanted|missing|last\s+seen|died|death|tribute|family|pleaded"
    r"|guilty|remanded|appear(?:ed|s)?\s+at|court|murder|manslaughter|inquest|disqualified|banned|order"
    r"|recall(?:ed)?|prison|imprisoned|suspended|fined|convict|named|identify|appeal|award|congratulat\w*"
    r"|found|jail|sentence|disappearance|anyone\s+who\s+sees|thank|retire\w*|welcome|honour\w*|funeral|memory|rip|commend\w*|mp|councillor|mayor|minister"
)
OFFICER_TITLE_RE: Final = re.compile(
    r"\b(?:PCSO|PC|DC|DS|DI|DCI|DSI|DCS|Sgt|Sergeant|Insp|Inspector|Ch\s*Insp|Chief\s+Inspector|Supt|"
    r"Superintendent|Chief\s+Superintendent|Constable|Chief\s+Constable|ACC|DCC|Commander|Commissioner|"
    r"Officer|Detective|Special\s+Constable|SC)\.?\s+$"
)
PLAIN_TITLES: Final = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr"})
CHILD_AGE_RE: Final = re.compile(
    r"\b(?:(?:aged\s+)?(1[0-7]|[4-9])(?:\s*-?\s*|\s+)years?\s*-?\s*old|aged\s+(1[0-7]|[4-9])\b|,\s*(1[0-7]|[4-9])\s*,)"
    r"|\b(?:teenager|teenage|schoolboy|schoolgirl|pupil|juvenile|youngster|child|girl|boy|youth)s?\b",
    re.IGNORECASE,
)
AGE_AFTER_NAME_RE: Final = re.compile(
    r"^\s*,\s*(?:aged\s+)?(\d{1,2})(?=\s*(?:,|\)|;|and\b|from\b|of\b|who\b|$)|\.(?!\d))"
    r"|^\s*\((\d{1,2})\)|^\s*,?\s*aged\s+(\d{1,2})\b"
)
AGE_BEFORE_NAME_RE: Final = re.compile(
    r"\b(\d{1,2})[\s-]*(?:years?|yrs?)[\s-]*old\s+(?:[a-z]+\s+){0,2}$", re.IGNORECASE
)
CHILD_WORD_RE: Final = re.compile(
    r"\b(?:1[0-7]|[4-9])[\s-]*(?:years?|yrs?)[\s-]*old\b|\b(?:boy|girl|teenager|schoolboy|schoolgirl|pupil|youth)\b",
    re.IGNORECASE,
)
SCHOOL_RE: Final = re.compile(
    r"\b(?:St\.?\s+)?(?:[A-Z][\w'\u2019]+\s+){1,4}(?:Primary\s+School|High\s+School|Secondary\s+School|"
    r"Grammar\s+School|Academy|College|School|Infants|Juniors)\b"
)
LIVES_ON_RE: Final = re.compile(r"\blives?\s+(?:on|in)\s+(?:[A-Z][\w'\u2019-]+\s*){1,3}")


def _age_near(text: str, name: NameSpan) -> int | None:
    m = AGE_AFTER_NAME_RE.match(text[name.end : name.end + 20])
    if m:
        return int(next(g for g in m.groups() if g))
    return None


def _gender_word(text: str) -> tuple[str, str]:
    low = text.lower()
    if re.search(r"\b(?:she|her|woman|girl|mother|wife|female)\b", low):
        return "woman", "girl"
    if re.search(r"\b(?:he|his|him|man|boy|father|husband|male)\b", low):
        return "man", "boy"
    return "person", "child"


def _age_phrase(text: str, age: int | None) -> str:
    adult, child = _gender_word(text)
    if age is None:
        return f"a {adult}"
    if age < 18:
        return f"a {'teenage ' + child if age >= 13 else child}"
    return (
        f"a {adult} in their {age // 10 * 10}s"
        if adult == "person"
        else f"a {adult} in her {age // 10 * 10}s"
        if adult == "woman"
        else f"a {adult} in his {age // 10 * 10}s"
    )


def _is_victim(sentence: str, before: str, charged: bool) -> bool:
    """Is the name in ``sentence`` (preceded by ``before``) presented as the victim?"""
    if charged:
        return False
    victim = bool(VICTIM_RE.search(sentence)) or bool(
        re.search(r"\bvictims?\b[^.]{0,12}$", before, re.IGNORECASE)
    )
    defendant = bool(DEFENDANT_RE.search(sentence)) and not re.search(
        r"\bvictims?\b[,:]?\s*$", before, re.IGNORECASE
    )
    return victim and not defendant


_HANDLE_RE: Final = re.compile(r"@\w+")


def _in_a_handle(text: str, surface: str) -> bool:
    first = surface.split()[0].lower()
    return len(first) > 2 and any(first in h.lower() for h in _HANDLE_RE.findall(text))


def span_overlaps(a: int, b: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(a < y and x < b for x, y in spans)


def name_findings(
    text: str, names: list[NameSpan], context: ScreenContext, min_score: float
) -> tuple[list[Finding], set[tuple[int, int]]]:
    """Judge each person name; return findings and the spans already reported as red.

    Order of precedence: sexual-offence victim (red), child in a criminal matter (red),
    officer or public title (nothing), justified publication context (info), otherwise a
    private individual (amber).
    """
    out: list[Finding] = []
    red: set[tuple[int, int]] = set()
    if not names:
        return out, red
    sents = sentences(text)
    low = text.lower()
    sexual = any_trigger(low, SEXUAL_TRIGGERS) and bool(SEXUAL_RE.search(text))
    missing = any_trigger(low, MISSING_TRIGGERS) and bool(MISSING_RE.search(text))
    justified_text = bool(JUSTIFIED_NAME_RE.search(text))
    criminal_text: bool | None = None
    charged_lower = [n.lower() for n in context.charged_names]
    for name in names:
        if name.is_handle:
            continue
        surface = text[name.start : name.end]
        s0, s1 = sentence_of(sents, name.start)
        sentence = text[s0:s1]
        before = text[max(0, name.start - 40) : name.start]
        age = _age_near(text, name)
        officer = bool(name.title and name.title not in PLAIN_TITLES) or bool(
            OFFICER_TITLE_RE.search(before)
        )
        if (
            sexual
            and not officer
            and _is_victim(sentence, before, surface.lower() in charged_lower)
            and (name.known or name.score >= min_score)
        ):
            out.append(
                Finding(
                    "victim_identification",
                    name.start,
                    name.end,
                    "red",
                    SOA_1992,
                    f"Remove the name; say '{_age_phrase(sentence, age)}' instead.",
                )
            )
            red.add((name.start, name.end))
            continue
        if age is None:
            m_before = AGE_BEFORE_NAME_RE.search(text[max(0, name.start - 40) : name.start])
            age = int(m_before.group(1)) if m_before else None
        child_age = age is not None and age < 18
        child_word = age is None and bool(
            CHILD_WORD_RE.search(text[max(0, name.start - 40) : name.end + 20])
        )
        plausible = (name.known or name.score >= min_score) and not officer
        if plausible and (child_age or child_word) and _is_deceased(text, name):
            # Reporting restrictions protect living children; forces name children who
            # died (with their families) and the screen must not block those appeals.
            plausible = False
        if plausible and (child_age or child_word) and not missing and criminal_text is None:
            criminal_text = bool(CRIMINAL_RE.search(text))
        if plausible and (child_age or child_word) and criminal_text and not missing:
            out.append(
                Finding(
                    "child_identification",
                    name.start,
                    name.end,
                    "red",
                    CHILDREN,
                    f"Remove the name; say '{_age_phrase(sentence, age if child_age else 15)}' "
                    "without the school or street.",
                )
            )
            red.add((name.start, name.end))
            continue
        if name.score < min_score:
            continue
        if officer:
            continue  # officers and titled public figures are named as a matter of course
        justified = (
            (
                name.title not in PLAIN_TITLES
                and (
                    justified_text
                    or surface.lower() in charged_lower
                    or name.greeted  # "Hi Alan": the account holder who wrote to us
                    or _in_a_handle(text, surface)  # "@WBAJames9 ... James": their own account
                    or not surface[:1].isupper()
                    or not name.known  # unknown capitalised words are mostly places and brands
                )
            )
            or (name.title in PLAIN_TITLES and justified_text)
        )
        severity: Severity = "info" if justified else "amber"
        out.append(
            Finding(
                "personal_data",
                name.start,
                name.end,
                severity,
                f"'{surface}' looks like a person's name. Naming a private individual (a "
                f"witness, a victim, a member of the public) needs a lawful basis under {GDPR}; "
                "charged or wanted people, officers and public figures are usually fine.",
                "If this is a private individual, remove the name or use a description "
                "('a local woman', 'a man in his 40s').",
            )
        )
    return out, red


def identifiers_of_protected_people(text: str) -> list[Finding]:
    """Schools and home streets that identify a sexual-offence victim or a child suspect."""
    out: list[Finding] = []
    low = text.lower()
    if not any_trigger(low, ("school", "academy", "college", "infants", "juniors", "live")):
        return out
    sexual = any_trigger(low, SEXUAL_TRIGGERS) and bool(SEXUAL_RE.search(text))
    child = bool(CHILD_AGE_RE.search(text))
    criminal = bool(CRIMINAL_RE.search(text))
    if (not sexual and not (child and criminal)) or (MISSING_RE.search(text) and not sexual):
        return out
    targets = [(m.start(), m.end()) for m in SCHOOL_RE.finditer(text)]
    targets += [(m.start(), m.end()) for m in LIVES_ON_RE.finditer(text)]
    for a, b in targets:
        if sexual and VICTIM_RE.search(text):
            out.append(
                Finding(
                    "victim_identification",
                    a,
                    b,
                    "red",
                    SOA_1992,
                    "Remove the school, street or workplace: together with the offence it "
                    "identifies the victim.",
                )
            )
        elif child and criminal:
            out.append(
                Finding(
                    "child_identification",
                    a,
                    b,
                    "red",
                    CHILDREN,
                    "Remove the school or street; give only the town or the age.",
                )
            )
    return out


_CHARGE_RE: Final = cue(
    r"charged|accused|defendant|will\s+appear|due\s+to\s+appear|appear(?:s|ed)?\s+(?:at|before)|remanded|trial"
)
_VERDICT_RE: Final = cue(r"jailed|sentenced|found\s+guilty|convicted|pleaded\s+guilty|admitted")
_PREJUDICE_RE: Final = cue(
    r"(?:clearly|obviously|definitely|undoubtedly|certainly)\s+guilty|we\s+know\s+(?:he|she|they)\s+did(?:\s+it)?"
    r"|guilty\s+of\s+this|(?:he|she|they)\s+did\s+it|monster|thug|scum|scumbag|animal|evil|predator|beast|vile|sick"
    r"|previous\s+convictions?|previously\s+(?:convicted|jailed)|(?:long\s+)?history\s+of\s+(?:violence|offending|abuse)"
    r"|known\s+to\s+(?:the\s+)?police|served\s+time|has\s+form|done\s+this\s+before|the\s+(?:killer|murderer|rapist|attacker)\s+of"
    r"|career\s+criminal|serial\s+(?:offender|rapist|burglar)"
)


def contempt(text: str, context: ScreenContext) -> list[Finding]:
    """Prejudicial statements while proceedings are active (after charge, before verdict)."""
    low = text.lower()
    named_charged = any(n.lower() in low for n in context.charged_names)
    if not (
        named_charged
        or any_trigger(low, ("charged", "accused", "defendant", "appear", "remanded", "trial"))
    ):
        return []
    if not (_CHARGE_RE.search(text) or named_charged) or _VERDICT_RE.search(text):
        return []
    return [
        Finding(
            "contempt",
            m.start(),
            m.end(),
            "red",
            CONTEMPT,
            "State only the facts of the charge (name, age, town, offence, court date); "
            "remove this.",
        )
        for m in _PREJUDICE_RE.finditer(text)
    ]


_FUTURE_RE: Final = cue(
    r"will\s+be|we'll\s+be|we\s+will|are\s+going\s+to|plan(?:ning)?\s+to|tomorrow|tonight|next\s+week|this\s+(?:evening|weekend)"
    r"|on\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|from\s+\d"
)
_TIME_RE: Final = re.compile(
    r"\b\d{1,2}(?::\d{2})?\s*(?:am|pm)\b|\b\d{1,2}:\d{2}\b|\b(?:tonight|tomorrow|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday)\b",
    re.IGNORECASE,
)
_OPERATION_RE: Final = cue(
    r"raids?|raiding|(?:drugs?\s+)?warrants?|search(?:es|ing)?\s+(?:properties|premises|houses|addresses)"
    r"|crackdown|speed\s+traps?|checkpoints?|covert|plain[\s-]?clothes|unmarked|surveillance|sting|undercover"
    r"|test\s+purchas\w+|decoy|stake[\s-]?out|dawn\s+raids?"
)
_STAFFING_RE: Final = re.compile(
    r"\b(?:(?:only|just)\s+(?:one|two|three|four|\d)\s+(?:officers?|pcsos?|cops|units?|cars?|response\s+cars?)"
    r"(?:\s+(?:on\s+(?:shift|duty)|available|covering|working))?|no\s+(?:officers|police|cops|units)\s+"
    r"(?:on\s+(?:shift|duty)|covering|available|working)(?:\s+[A-Z][\w-]+)?(?:\s+(?:tonight|today|this\s+\w+))?"
    r"|short[\s-]staffed|understaffed|skeleton\s+(?:staff|crew|shift)|(?:station|front\s+counter)\s+"
    r"(?:will\s+be\s+|is\s+)?(?:unmanned|unstaffed|empty))",
    re.IGNORECASE,
)
_BROKEN_RE: Final = re.compile(
    r"\b(?:cctv|cameras?|alarms?|locks?|gates?|doors?|barriers?|fences?|security\s+lights?|anpr)\b[^.!?\n]{0,45}?"
    r"\b(?:broken|not\s+working|out\s+of\s+(?:order|action)|disabled|faulty|switched\s+off|hasn't\s+been\s+fixed)",
    re.IGNORECASE,
)
_OFFICER_PRIVATE_RE: Final = re.compile(
    # case-sensitive only where a capital marks a place name ("lives in Bramhall", not
    # "lost their lives in the service")
    r"\b(?:(?i:home\s+address)|(?i:lives)\s+(?:at|in|on)\s+[A-Z0-9][\w-]+"
    r"|(?i:personal\s+(?:mobile|phone|number|email|facebook|instagram))"
    r"|(?i:drives\s+a\s+\w+(?:\s+\w+)?)"
    r"|(?i:(?:his|her)\s+(?:wife|husband|partner|kids|children)(?:'s)?\s+(?:go|goes|attend|attends|name))"
    r"|(?i:home\s+(?:phone|number)))",
)
_OFFICER_RE: Final = re.compile(
    r"\b(?:PCSO|PC|DC|DS|DI|DCI|Sgt|Sergeant|Insp|Inspector|Supt|Constable|officer|detective)\b"
)


def operational(text: str) -> list[Finding]:
    """Future operations with time or place, staffing gaps, broken security measures and
    officers' private lives."""
    out: list[Finding] = []
    low = text.lower()
    operation = any_trigger(
        low,
        (
            "raid",
            "warrant",
            "search",
            "crackdown",
            "speed trap",
            "checkpoint",
            "covert",
            "plain",
            "unmarked",
            "surveillance",
            "sting",
            "undercover",
            "test purchas",
            "decoy",
            "stake",
        ),
    )
    future = operation and bool(_FUTURE_RE.search(text))
    when = future and bool(_TIME_RE.search(text))
    for m in _OPERATION_RE.finditer(text) if future else ():
        severity: Severity = "red" if when else "amber"
        out.append(
            Finding(
                "operational_detail",
                m.start(),
                m.end(),
                severity,
                OPSEC
                + " Announcing a planned operation with where or when lets offenders prepare.",
                "Publish after the operation, or remove the time and place.",
            )
        )
    staffing = any_trigger(
        low,
        (
            "only ",
            "just ",
            "no officers",
            "no police",
            "no cops",
            "no units",
            "staffed",
            "skeleton",
            "unmanned",
            "unstaffed",
            "empty",
        ),
    )
    for m in _STAFFING_RE.finditer(text) if staffing else ():
        out.append(
            Finding(
                "operational_detail",
                m.start(),
                m.end(),
                "amber",
                OPSEC
                + " Revealing staffing levels or gaps shows when and where offenders will not "
                "be caught.",
                "Remove the staffing detail; say how to contact police instead.",
            )
        )
    broken = any_trigger(
        low,
        (
            "broken",
            "not working",
            "out of order",
            "out of action",
            "disabled",
            "faulty",
            "switched off",
            "been fixed",
        ),
    )
    for m in _BROKEN_RE.finditer(text) if broken else ():
        out.append(
            Finding(
                "operational_detail",
                m.start(),
                m.end(),
                "amber",
                OPSEC + " Publicising a broken camera, lock or alarm invites crime there.",
                "Report the fault internally and remove it from the post.",
            )
        )
    private = any_trigger(
        low,
        ("home", "lives", "personal", "drives", "wife", "husband", "partner", "kids", "children"),
    )
    if private and _OFFICER_RE.search(text):
        for m in _OFFICER_PRIVATE_RE.finditer(text):
            out.append(
                Finding(
                    "operational_detail",
                    m.start(),
                    m.end(),
                    "red",
                    OPSEC
                    + " An officer's home, family, car or personal contact details can expose "
                    f"them to threats and are personal data ({GDPR}).",
                    "Remove the officer's private details.",
                )
            )
    return out
