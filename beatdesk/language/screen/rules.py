"""Context rules: names, victims, children, contempt, operational detail, tone, accuracy.

Police posts legitimately name people every day (charged and convicted adults, wanted
suspects, officers, the dead with their families' consent). The rules therefore judge a
name by what the text says about the person, and reserve red for the situations the law
protects: sexual-offence victims, children in criminal matters, live proceedings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
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
    r"\b(?:(?:death|murder|killing|manslaughter|funeral|(?:fatal\s+)?(?:stabbing|shooting))\s+of|tribute\s+to"
    r"|family\s+of|killed|murdered|killing|murdering|named\b[^.]{0,120}\bas)\s+(?:the\s+|a\s+)?(?:\d{1,2}[\s-]*(?:years?|yrs?)[\s-]*old\s+|\d{1,2}\s*(?:yo|y/o)\s+)?"
    r"(?:[a-z]+\s+)?$",
    re.IGNORECASE,
)
_DECEASED_AFTER_RE: Final = re.compile(
    r"^[\s,]*(?:\(?\d{1,2}\)?[\s,]*)?(?:who\s+)?(?:was\s+|has\s+|had\s+)?(?:sadly\s+)?"
    r"(?:died|pronounced\s+dead|killed|fatally|stabbed\s+to\s+death|passed\s+away|lost\s+(?:his|her)\s+life)",
    re.IGNORECASE,
)


_ALIVE_RE: Final = re.compile(
    r"\b(?:remains?\s+in\s+(?:a\s+)?(?:critical|serious|stable|life-threatening)|(?:critical|serious|stable)\s+"
    r"(?:but\s+stable\s+)?condition|is\s+(?:recovering|in\s+hospital)|life[\s-]threatening\s+injur|life[\s-]changing"
    r"\s+injur|was\s+(?:injured|hurt|treated)|survived)",
    re.IGNORECASE,
)
_DEATH_RE: Final = re.compile(
    r"\b(?:died|dead|death|murder(?:ed)?|killed|passed\s+away|fatal(?:ly)?|manslaughter|funeral|tribute|inquest)\b",
    re.IGNORECASE,
)


def _is_deceased(text: str, name: NameSpan) -> bool:
    """Is the person named presented as having died ("the murder of Sam Lee, 16")?

    "The family of ..." and "named ... as" also introduce the living; when the text says
    the person is alive (in hospital, in a critical condition) and never mentions a death,
    they are not treated as dead.
    """
    before = text[max(0, name.start - 120) : name.start]
    after = text[name.end : name.end + 60]
    if not (_DECEASED_BEFORE_RE.search(before) or _DECEASED_AFTER_RE.match(after)):
        return False
    return not (_ALIVE_RE.search(text) and not _DEATH_RE.search(text))


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
    r"\b(?:(?:aged\s+)?(1[0-7]|[4-9])(?:\s*-?\s*|\s+)years?\s*-?\s*old|aged\s+(1[0-7]|[4-9])\b|,\s*(1[0-7]|[4-9])\s*,"
    r"|(1[0-7]|[4-9])\s*(?:yo|y/o|yrs?\s*old)\b)"
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
    r"\b(?:1[0-7]|[4-9])[\s-]*(?:years?|yrs?)[\s-]*old\b|\b(?:1[0-7]|[4-9])\s*(?:yo|y/o)\b|\b(?:boy|girl|teenager|schoolboy|schoolgirl|pupil|youth)\b",
    re.IGNORECASE,
)
SCHOOL_RE: Final = re.compile(
    r"\b(?:St\.?\s+)?(?:[A-Z][\w'\u2019]+\s+){1,4}(?:Primary\s+School|High\s+School|Secondary\s+School|"
    r"Grammar\s+School|Academy|College|School|Infants|Juniors)\b"
)
LIVES_ON_RE: Final = re.compile(r"\blives?\s+(?:on|in)\s+(?:[A-Z][\w'\u2019-]+\s*){1,3}")
STREET_TYPES: Final = (
    r"Road|Rd|Street|St|Avenue|Ave|Lane|Close|Drive|Way|Crescent|Court|Place|Gardens|Grove|Terrace"
    r"|Walk|Row|Square|Mews|View|Rise|Parade|Vale|Hill|Green|Fold|Croft|Meadows?|Park|Estate"
)
_PLACE: Final = r"(?:the\s+)?(?:[A-Z][\w'\u2019&-]*\s*){1,5}"
# Where a protected person works or is cared for, and the street they come from.
WORKPLACE_RE: Final = re.compile(
    r"\b(?:works?|working|worked|employed|volunteers?|volunteering)\s+(?:as\s+an?\s+\w+\s+)?(?:at|for|in)\s+"
    + _PLACE
    + r"(?:(?:on|in)\s+(?:[A-Z][\w'\u2019-]*\s*){1,3})?"
    r"|\ban?\s+(?:nurse|teacher|doctor|carer|care\s+worker|student|cleaner|receptionist|barmaid|barman"
    r"|waitress|waiter|shop\s+assistant|employee|member\s+of\s+staff|worker|midwife|paramedic|pharmacist)\s+"
    r"(?:on|at|in|from)\s+(?:Ward\s+\w+\s+(?:at|in|of)\s+)?"
    + _PLACE
    + r"|\bWard\s+\d+\w*(?:\s+(?:at|of|in)\s+"
    + _PLACE
    + r")?"
)
HOME_STREET_RE: Final = re.compile(
    r"\b(?:from|(?:her|his|their)\s+home\s+(?:on|in|at|off))\s+(?:[A-Z][\w'\u2019-]+\s+){1,3}(?:"
    + STREET_TYPES
    + r")\b(?:,\s*[A-Z][\w'\u2019-]+(?:\s+[A-Z][\w'\u2019-]+)?)?"
)


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


# Who a name (or a school, street, workplace) belongs to, read from the words around it.
_VICTIM_JUST_BEFORE_RE: Final = re.compile(
    r"\b(?:victims?|survivors?|complainants?|involving|(?:offen[cs]es?|crimes?|assaults?)\s+against|supporting"
    r"|support\s+for|raped|raping"
    r"|(?:sexually|indecently)\s+(?:assaulted|assaulting|touched|touching|abused|abusing)|assaulted|assaulting"
    r"|attacked|attacking|abused|abusing|groomed|grooming|filmed|filming|photographed|targeted|followed"
    r"|rape\s+of|assault\s+on|attack\s+on)\b[\s,:]*(?:(?:the|a|an|her|his)\s+)?(?:\d{1,2}[\s-]*(?:years?|yrs?)"
    r"[\s-]*old\s+)?(?:\w+\s+)?$",
    re.IGNORECASE,
)
_VICTIM_NOUN_BEFORE_RE: Final = re.compile(
    r"\b(?:victims?|survivors?|complainants?|woman|women|girls?|lady|teenager|student|schoolgirl|pupil)\b"
    r"[^.!?\n;]{0,50}$",
    re.IGNORECASE,
)
_VICTIM_AFTER_RE: Final = re.compile(
    r"^[^.!?\n]{0,60}?\b(?:was|were|had\s+been|has\s+been|is|reported\s+being|says?\s+(?:she|he)\s+was)\s+"
    r"(?:(?:sexually|indecently|seriously)\s+)?(?:raped|assaulted|attacked|groomed|abused|filmed|touched|targeted"
    r"|followed|exposed\s+to|approached|photographed)\b",
    re.IGNORECASE,
)
_DEFENDANT_AFTER_RE: Final = re.compile(
    r"^[^.!?\n]{0,45}?\b(?:(?:has\s+been|have\s+been|was|were|is|had\s+been)\s+(?:charged|arrested|jailed"
    r"|sentenced|convicted|remanded|found\s+guilty|named\s+as\s+(?:a|the)\s+suspect|detained|imprisoned|bailed)"
    r"|pleaded|admitted|denies|denied|will\s+appear|is\s+due\s+to\s+appear|appeared|is\s+wanted)\b",
    re.IGNORECASE,
)


def role_near(text: str, start: int, end: int, detail: bool = False) -> str | None:
    """'victim', 'defendant' or None for the person or detail at ``text[start:end]``.

    Read from the words right around it: "involving Danielle Price", "supporting Kelly",
    "who ... was indecently assaulted" (victim); "Martin Cole, 52, of Wrexham, has been
    charged" (defendant). For a ``detail`` (a workplace, a street) a victim word earlier
    in the clause also counts: "the victim, a student who works at ...".
    """
    before = text[max(0, start - 60) : start]
    cut = max(before.rfind(". "), before.rfind("\n"), before.rfind("! "), before.rfind("? "))
    if cut != -1:
        before = before[cut + 1 :]
    after = text[end : end + 120]
    if _VICTIM_JUST_BEFORE_RE.search(before):
        return "victim"
    if _DEFENDANT_AFTER_RE.match(after):
        return "defendant"
    if _VICTIM_AFTER_RE.match(after):
        return "victim"
    if detail and _VICTIM_NOUN_BEFORE_RE.search(before):
        return "victim"
    return None


def _is_victim(sentence: str, before: str, charged: bool, role: str | None = None) -> bool:
    """Is the name in ``sentence`` (preceded by ``before``) presented as the victim?"""
    if charged:
        return False
    if role is not None:
        return role == "victim"
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


_THE_BEFORE_RE: Final = re.compile(r"\b[Tt]he\s+$")
# "named (locally) as Reece": whatever follows is a person's name, even one the tagger
# does not know.
_NAMED_AS_RE: Final = re.compile(
    r"\b(?i:named|identified)\s+(?:(?i:locally|by\s+(?:police|(?:his|her|their)\s+family))\s+)?(?i:as)\s+"
    r"([A-Z][\w'\u2019-]+(?:\s+[A-Z][\w'\u2019-]+)?)"
)


def add_named_as(text: str, names: list[NameSpan]) -> list[NameSpan]:
    """Add the name after "named (locally) as" when the tagger missed it."""
    if "named" not in text and "identified" not in text and "Named" not in text:
        return names
    extra = [
        NameSpan(start=m.start(1), end=m.end(1), score=0.0, is_handle=False, known=True)
        for m in _NAMED_AS_RE.finditer(text)
        if not span_overlaps(m.start(1), m.end(1), [(n.start, n.end) for n in names])
    ]
    return sorted(names + extra, key=lambda n: n.start) if extra else names


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
        before = text[max(0, name.start - 40) : name.start]
        if _THE_BEFORE_RE.search(before):
            continue  # "The Christie", "the Arndale": people are not named with "the"
        s0, s1 = sentence_of(sents, name.start)
        sentence = text[s0:s1]
        age = _age_near(text, name)
        officer = bool(name.title and name.title not in PLAIN_TITLES) or bool(
            OFFICER_TITLE_RE.search(before)
        )
        if (
            sexual
            and not officer
            and (name.known or name.score >= min_score)
            and _is_victim(
                sentence,
                before,
                surface.lower() in charged_lower,
                role_near(text, name.start, name.end),
            )
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
        # A child word counts only in the name's own sentence: "... as Solomon Small. A
        # 17-year-old boy was arrested" is about two people.
        child_word = age is None and bool(
            CHILD_WORD_RE.search(text[max(s0, name.start - 40) : min(s1, name.end + 20)])
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


_VICTIM_PASSIVE_RE: Final = cue(
    r"(?:was|were|been|being)\s+(?:(?:sexually|indecently)\s+)?(?:raped|assaulted|attacked|groomed|abused"
    r"|filmed|touched|exposed\s+to)|(?:filming|photographing|upskirting)\s+(?:a|an|her|the)"
)


def identifiers_of_protected_people(text: str) -> list[Finding]:
    """Schools, workplaces, hospital wards and home streets that identify a sexual-offence
    victim, and schools and streets that identify a child suspect."""
    out: list[Finding] = []
    low = text.lower()
    sexual_cue = any_trigger(low, SEXUAL_TRIGGERS)
    if not any_trigger(
        low, ("school", "academy", "college", "infants", "juniors", "live", "from ")
    ) and not (sexual_cue and any_trigger(low, ("work", "employ", "volunteer", "ward", "home"))):
        return out
    sexual = sexual_cue and bool(SEXUAL_RE.search(text))
    child = bool(CHILD_AGE_RE.search(text))
    criminal = bool(CRIMINAL_RE.search(text))
    if (not sexual and not (child and criminal)) or (MISSING_RE.search(text) and not sexual):
        return out
    # Schools and "lives on" streets count for a victim whenever the text is about one;
    # workplaces, wards and "from <street>" only when the words around them say the
    # victim (they are as often the offender's or a place in the story).
    targets = [(m.start(), m.end(), False) for m in SCHOOL_RE.finditer(text)]
    targets += [(m.start(), m.end(), False) for m in LIVES_ON_RE.finditer(text)]
    if child and criminal and not sexual:
        targets += [(a, b, False) for a, b in _school_or_street(text)]
    victim_text = sexual and bool(VICTIM_RE.search(text) or _VICTIM_PASSIVE_RE.search(text))
    if sexual:
        targets += [(m.start(), m.end(), True) for m in WORKPLACE_RE.finditer(text)]
        targets += [(m.start(), m.end(), True) for m in HOME_STREET_RE.finditer(text)]
    seen: list[tuple[int, int]] = []
    for a, b, detail in targets:
        if span_overlaps(a, b, seen):
            continue
        seen.append((a, b))
        role = role_near(text, a, b, detail) if sexual else None
        if sexual and (role == "victim" or (role is None and victim_text and not detail)):
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
            if child and (a, b) in _school_or_street(text):
                # A child victim: reporting restrictions on children apply as well.
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
        elif child and criminal and (a, b) in _school_or_street(text):
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


# "a 13yo from Marlowe Crescent": the street right after a child's age is where the
# child lives (a street further on is as often where something happened).
_CHILD_FROM_GAP: Final = 30


def _school_or_street(text: str) -> set[tuple[int, int]]:
    spans = {(m.start(), m.end()) for m in SCHOOL_RE.finditer(text)}
    spans |= {(m.start(), m.end()) for m in LIVES_ON_RE.finditer(text)}
    ages = [m.end() for m in CHILD_AGE_RE.finditer(text)]
    for m in HOME_STREET_RE.finditer(text):
        if m.group().startswith("from") and any(
            0 <= m.start() - e <= _CHILD_FROM_GAP for e in ages
        ):
            spans.add((m.start(), m.end()))
    return spans


_CHARGE_RE: Final = re.compile(
    r"\b(?:charged|accused|defendant|will\s+appear|due\s+to\s+appear|appear(?:s|ed)?\s+(?:at|before)|remanded"
    r"|trial)\b|(?<!\bin\s)\bcharges?\s+(?:of|against)\b",
    re.IGNORECASE,
)
# A verdict in *this* case ends the risk of contempt; "a convicted shoplifter" or "was
# jailed in 2019" is bad character, not a verdict.
_VERDICT_RE: Final = cue(
    r"(?<!previously\s)(?<!already\s)(?:jailed|sentenced)"
    r"(?!\s+(?:before|previously|in\s+(?:19|20)\d\d|last\s+year|twice|several))"
    r"|(?:was|were|has\s+been|have\s+been|is|are|been)\s+(?:today\s+|now\s+)?(?:convicted|found\s+guilty)"
    r"(?!\s+(?:before|previously|in\s+(?:19|20)\d\d|last\s+year|of\s+similar|twice|several))"
    r"|pleaded\s+guilty|admitted\s+(?:the\s+|two\s+|three\s+|all\s+)?(?:offences?|charges?|counts?|\w+ing)"
)
_PREJUDICE_RE: Final = cue(
    r"(?:clearly|obviously|definitely|undoubtedly|certainly)\s+guilty|we\s+know\s+(?:he|she|they)\s+did(?:\s+it)?"
    r"|guilty\s+of\s+this|(?:he|she|they)\s+did\s+it|monster|thug|scum|scumbag|animal|evil|predator|beast|vile|sick"
    r"|previous\s+convictions?|previously\s+(?:convicted|jailed)|(?:long\s+)?history\s+of\s+(?:violence|offending|abuse)"
    r"|known\s+to\s+(?:the\s+)?police|served\s+time|has\s+form|done\s+this\s+before"
    r"|the\s+(?:killer|murderer|rapist|attacker|culprit|perpetrator|robber|abuser|paedophile|pedophile)s?"
    r"|career\s+criminal|serial\s+(?:offender|rapist|burglar)|prolific\s+(?:offender|criminal|thief|burglar)"
    r"|notorious|nasty\s+piece\s+of\s+work|terrori[sz](?:ed|ing)|reign\s+of\s+terror|menace|bully|coward(?:ly)?"
    r"|idiot|moron|selfish|lowlife|low-life|disgusting|despicable|heartless"
    r"|(?:nasty|dangerous|violent|evil|vile)\s+(?:man|woman|individual|character|thug|bully|person)"
    r"|(?:got|came)\s+out\s+of\s+(?:prison|jail)|only\s+(?:just\s+)?(?:been\s+)?released\s+from\s+(?:prison|jail)"
    r"|(?:will|is\s+going\s+to|'ll)\s+go\s+down|behind\s+bars\s+where\s+(?:he|she|they)\s+belongs?"
    # wishes about the outcome
    r"|gets?\s+(?:everything|all|exactly\s+what|what)\s+(?:(?:he|she|they)\s+)?(?:deserves?|(?:is|'s)\s+coming)"
    r"|gets?\s+what'?s\s+coming|rots?\s+in\s+(?:a\s+|the\s+)?(?:cell|jail|prison|hell)"
    r"|throw\s+away\s+the\s+key|pays?\s+for\s+what\s+(?:he|she|they)|justice\s+(?:will|must)\s+be\s+(?:done|served)"
    # bad character and previous convictions, however phrased
    r"|(?:convicted|known|habitual|repeat|persistent)\s+(?:shoplifter|fraudster|burglar|thief|drugs?\s+dealer"
    r"|dealer|offender|criminal|paedophile|sex\s+offender|con\s*man|robber|abuser|thug|car\s+thief)"
    r"|(?:long|lengthy|extensive|string\s+of|list\s+of)\s+(?:criminal\s+)?(?:record|rap\s+sheet|convictions|previous)"
    r"|criminal\s+(?:record|past|history)"
    r"|(?:was|been|were)\s+(?:previously\s+)?(?:locked\s+up|jailed|imprisoned|sent\s+down|inside|behind\s+bars)"
    r"\s+(?:before|in\s+(?:19|20)\d\d|last\s+year|for\s+(?:a\s+)?similar|twice|several\s+times)"
    r"|(?:on|out\s+on)\s+(?:licence|probation)\s+(?:for|after|from)"
)


# "still searching for the attacker": someone not yet identified, not the accused.
_STILL_SOUGHT_RE: Final = re.compile(
    r"\b(?:for|find|trace|tracing|identify|identifying|locate|locating|catch|catching|seen|saw)\s+$",
    re.IGNORECASE,
)


def contempt(text: str, context: ScreenContext) -> list[Finding]:
    """Prejudicial statements while proceedings are active (after charge, before verdict)."""
    low = text.lower()
    named_charged = any(n.lower() in low for n in context.charged_names)
    if not (
        named_charged
        or any_trigger(low, ("charge", "accused", "defendant", "appear", "remanded", "trial"))
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
        if not (m.group()[:4].lower() == "the " and _STILL_SOUGHT_RE.search(text, 0, m.start()))
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
    r"(?:(?:\s+(?:is|are|will\s+be))?\s+(?:on\s+(?:shift|duty)|available|covering|working))?"
    r"|no\s+(?:officers|police|cops|units)\s+"
    r"(?:on\s+(?:shift|duty)|covering|available|working)(?:\s+[A-Z][\w-]+)?(?:\s+(?:tonight|today|this\s+\w+))?"
    r"|short[\s-]staffed|understaffed|skeleton\s+(?:staff|crew|shift)|(?:station|front\s+counter)\s+"
    r"(?:will\s+be\s+|is\s+)?(?:unmanned|unstaffed|empty))",
    re.IGNORECASE,
)
# A count of officers is a gap only when it says who is on duty ("only two officers
# covering", "no officers on shift") or names the gap ("skeleton crew"); "only two officers
# were hurt" is not one (amber, for a human to read).
_STAFFING_GAP_RE: Final = re.compile(
    r"\b(?:on\s+(?:shift|duty)|available|covering|working|no\s+(?:officers|police|cops|units)|staffed"
    r"|skeleton|unmanned|unstaffed|empty)\b",
    re.IGNORECASE,
)
_BROKEN_RE: Final = re.compile(
    r"\b(?:cctv|cameras?|alarms?|locks?|gates?|doors?|barriers?|fences?|security\s+lights?|anpr)\b[^.!?\n]{0,45}?"
    r"\b(?:broken(?!\s+in(?:to)?\b)|not\s+working|out\s+of\s+(?:order|action|use|service)|disabled|faulty|switched\s+off"
    r"|hasn't\s+been\s+fixed|(?:is|are|'s|has\s+been|have\s+been|currently|still|remains?|went|gone)\s+"
    r"(?:down|offline|unplugged|not\s+recording)|(?:doesn't|does\s+not|isn't|is\s+not|won't|will\s+not"
    r"|can't|cannot)\s+(?:work(?:ing)?|lock|close|shut|record(?:ing)?))\b",
    re.IGNORECASE,
)
_SYSTEM_RE: Final = re.compile(
    r"(?:cctv|cameras?|alarms?|anpr|security\s+lights?)\b", re.IGNORECASE
)
# Where ANPR or covert cameras are: knowing it lets offenders avoid them.
_CAMERA_SITE_RE: Final = re.compile(
    r"\b(?:ANPR|automatic\s+number\s+plate\s+recognition|covert|hidden)\s+(?:cameras?|sites?|units?|readers?)\b"
    r"[^.!?\n]{0,40}?\b(?:on|at|in|near|outside|past|by|along)\s+(?:the\s+)?(?:[A-Z]\d{1,4}\b|[A-Z][\w'-]+)"
    r"[^.!?\n]{0,40}?(?=\s+(?:is|are|has|have|was|will)\b|[.!?\n,]|$)",
)
_OFFICER_PRIVATE_RE: Final = re.compile(
    # case-sensitive only where a capital marks a place name ("lives in Bramhall", not
    # "lost their lives in the service")
    r"\b(?:(?i:home\s+address)|(?i:lives)\s+(?:at|in|on)\s+[A-Z0-9][\w-]+"
    r"|(?i:lives)\s+(?:[\w'-]+\s+){0,5}?(?i:at|in|on|near|off)\s+[A-Z0-9][\w-]+(?:\s+[A-Z][\w-]+){0,3}"
    r"|(?i:personal\s+(?:mobile|phone|number|email|facebook|instagram))"
    r"|(?i:drives\s+a\s+\w+(?:\s+\w+)?)"
    r"|(?i:(?:his|her)\s+(?:wife|husband|partner|kids|children)(?:'s)?\s+(?:go|goes|attend|attends|name))"
    r"|(?i:home\s+(?:phone|number)))",
)
# Who "lives" somewhere: he, she, who or a name ("Mike lives ..."), not "their lives".
_LIVES_SUBJECT_RE: Final = re.compile(
    r"(?:\b(?:[Hh]e|[Ss]he|[Ww]ho|also|now|still)|\b[A-Z][\w'\u2019-]*,?)\s+$"
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
        # A stated gap is red: it tells offenders when and where police are thin.
        gap = bool(_STAFFING_GAP_RE.search(m.group()))
        out.append(
            Finding(
                "operational_detail",
                m.start(),
                m.end(),
                "red" if gap else "amber",
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
            "down",
            "offline",
            "out of use",
            "out of service",
            "unplugged",
            "not recording",
            "n't work",
            "not work",
            "n't lock",
            "not lock",
            "n't close",
            "not close",
            "n't record",
        ),
    ) and any_trigger(
        low,
        ("cctv", "camera", "alarm", "lock", "gate", "door", "barrier", "fence", "light", "anpr"),
    )
    for m in _BROKEN_RE.finditer(text) if broken else ():
        if m.group().lower().endswith(("down", "offline")) and not _SYSTEM_RE.match(m.group()):
            continue  # "the level crossing gates are down": down means shut, not broken
        # "the alarm was disabled by the burglars" tells what offenders did: amber.
        by_offender = text.startswith(" by", m.end())
        out.append(
            Finding(
                "operational_detail",
                m.start(),
                m.end(),
                "amber" if by_offender else "red",
                OPSEC + " Publicising a broken camera, lock or alarm invites crime there.",
                "Report the fault internally and remove it from the post.",
            )
        )
    camera_site = any_trigger(low, ("anpr", "plate recognition", "covert", "hidden"))
    for m in _CAMERA_SITE_RE.finditer(text) if camera_site else ():
        out.append(
            Finding(
                "operational_detail",
                m.start(),
                m.end(),
                "amber",
                OPSEC + " Publishing where ANPR or covert cameras are lets offenders avoid them.",
                "Say that cameras are in use in the area without giving their locations.",
            )
        )
    private = any_trigger(
        low,
        ("home", "lives", "personal", "drives", "wife", "husband", "partner", "kids", "children"),
    )
    if private and _OFFICER_RE.search(text):
        for m in _OFFICER_PRIVATE_RE.finditer(text):
            if m.group()[:5].lower() == "lives" and not _LIVES_SUBJECT_RE.search(
                text, max(0, m.start() - 30), m.start()
            ):
                continue  # "lost their lives in ...": not where someone lives
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


# A private person's name joined to their own number, email, date of birth or address:
# "Mrs Pat Okafor (0117 ...)", "Alan Birch, date of birth ...", "Derek ... takes calls on".
_OWNER_GAP_RE: Final = re.compile(
    r"^[\s,:;(\[\u2013\u2014-]*(?:(?:on|at|of|tel\.?|telephone|phone|mob(?:ile)?\.?|e-?mail|dob|d\.o\.b\.?"
    r"|date\s+of\s+birth|born|(?:who\s+)?lives\s+at|aged\s+\d{1,3},?\s*(?:of)?)\b[\s:.,(\[]*)?$"
    r"|^[^.!?\n]{0,45}\b(?:takes?|taking|answers?)\s+calls\b[^.!?\n]{0,30}$"
    r"|^[^.!?\n]{0,30}\b(?:can\s+be\s+(?:reached|contacted|called|emailed)|(?:his|her|their)\s+"
    r"(?:number|mobile|phone|landline|e-?mail|address)\s+is)\b[^.!?\n]{0,12}$",
    re.IGNORECASE,
)
_NAME_PRIVATE_NOTE: Final = (
    " Here the name sits next to the person's own contact details or identifiers, which "
    "makes them identifiable and contactable."
)


def link_names_to_identifiers(
    text: str,
    names: list[Finding],
    identifiers: list[Finding],
    landlines: list[Finding],
) -> tuple[list[Finding], list[Finding]]:
    """Raise a private-looking name joined to personal data, and a landline joined to one.

    ``names`` are the ``personal_data`` findings from :func:`name_findings`;
    ``identifiers`` the red format findings (a private person's phone, mailbox, date of
    birth, home address, NI number); ``landlines`` the format findings for landline numbers that
    the text did not tie to anyone (info). Returns the new ``names`` and ``landlines``:
    a name directly followed by such data becomes at least amber; a landline directly
    after a private-looking name becomes red.
    """
    if not names or not (identifiers or landlines):
        return names, landlines
    new_names: list[Finding] = []
    raised_lines: set[int] = set()
    for n in names:
        if n.kind != "personal_data":
            new_names.append(n)
            continue
        joined = False
        for i, f in enumerate(landlines + identifiers):
            gap = text[n.end : f.start]
            if f.start < n.end or len(gap) > 80 or not _OWNER_GAP_RE.match(gap):
                continue
            joined = True
            if i < len(landlines):
                raised_lines.add(i)
        if joined and n.severity == "info":
            n = replace(n, severity="amber", explanation=n.explanation + _NAME_PRIVATE_NOTE)
        new_names.append(n)
    new_lines = [
        replace(f, severity="red") if i in raised_lines else f for i, f in enumerate(landlines)
    ]
    return new_names, new_lines
