"""Detectors for UK personal-data formats and links (pure regular expressions).

Each detector takes the text (and the context where it matters) and returns findings.
Severities follow one principle: red for data that identifies or lets someone contact a
private individual (a mobile number, a National Insurance number, a home address), amber
for data that often does but is also routinely published by forces (a vehicle
registration in a stolen-car appeal, a full postcode, a landline).
"""

from __future__ import annotations

import re
from typing import Final

from beatdesk.language.screen.model import Finding, ScreenContext, Severity

GDPR: Final = "UK GDPR and the Data Protection Act 2018"

# Numbers the public is always told to use: never personal data.
PUBLIC_NUMBERS: Final = frozenset(
    {"101", "999", "111", "112", "0800555111", "03001232040", "116123", "08000556000"}
)

_PHONE_RE: Final = re.compile(
    r"(?<![\w+/])(?:\+44\s?(?:\(0\)\s?)?|0044\s?|\(0|0)\d[\d \-.()]{7,14}\d(?![\w/])"
)


_POLICE_LINE_RE: Final = re.compile(
    r"\b(?:investigation|incident|enquiry|inquiry)\s+(?:team|room)|\b(?:police|officers?|detectives?|"
    r"team|us|CID|MIT|DC|DS|PC|PCSO|force|unit|hub|desk|line|hotline|helpline)\b[^.!?\n]{0,25}$",
    re.IGNORECASE,
)


_PRIVATE_PERSON_RE: Final = re.compile(
    r"\b(?:witness(?:'s|es)?|mother|father|mum|dad|wife|husband|partner|son|daughter|neighbour|friend|"
    r"victim|owner|(?:his|her|their|my)\s+(?:number|phone|mobile|landline)|call\s+[A-Z][a-z]+\s+on|ring\s+[A-Z][a-z]+)\b",
)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _normalise_uk(number: str) -> str:
    """National form with leading 0: ``+44 7700 900123`` -> ``07700900123``."""
    digits = _digits(number)
    if number.lstrip().startswith("+44") or digits.startswith("0044"):
        digits = digits[4:] if digits.startswith("0044") else digits[2:]
        digits = digits.removeprefix("0")
        digits = "0" + digits
    return digits


def phones(text: str, context: ScreenContext) -> list[Finding]:
    """UK telephone numbers other than public and the agency's own numbers."""
    own = {_normalise_uk(n) for n in context.agency_phone_numbers}
    out: list[Finding] = []
    for m in _PHONE_RE.finditer(text):
        raw = m.group().rstrip(" -.(")
        national = _normalise_uk(raw)
        if len(national) not in (10, 11) or not national.startswith("0"):
            continue
        if national in PUBLIC_NUMBERS or national in own:
            continue
        if re.search(r"\d{4,}\s*[/.]\s*\d", raw):  # reference numbers like 0123/45
            continue
        end = m.start() + len(raw)
        lead_in = text[max(0, m.start() - 45) : m.start()]
        if _POLICE_LINE_RE.search(lead_in):
            # "call the investigation team on 07..." is the force's own line: advice only
            out.append(
                Finding(
                    "personal_data",
                    m.start(),
                    end,
                    "info",
                    "This looks like a police line. Check it is the force's own number and not a "
                    f"private or personal phone ({GDPR}).",
                    "Add it to the agency's own numbers so it is not flagged again.",
                )
            )
            continue
        sentence = text[max(0, m.start() - 80) : end + 60]
        if national.startswith("07"):
            severity: Severity = "red"
            what = "a mobile number"
        elif national.startswith(("080", "084", "087", "03")):
            severity = "info"
            what = "a non-geographic number"
        else:
            # Landlines in appeals are nearly always police lines; amber only when the
            # text ties the number to a private person.
            severity = "amber" if _PRIVATE_PERSON_RE.search(sentence) else "info"
            what = "a telephone number"
        out.append(
            Finding(
                "personal_data",
                m.start(),
                end,
                severity,
                f"This looks like {what}. If it belongs to a private person (a witness, a "
                f"victim, a member of the public) publishing it breaches {GDPR}. Only the "
                "force's own numbers, 101, 999 and Crimestoppers (0800 555 111) are safe.",
                "Replace with 'call 101' or the force's own number.",
            )
        )
    return out


_EMAIL_RE: Final = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
PUBLIC_SECTOR_SUFFIXES: Final = (".police.uk", ".gov.uk", ".nhs.uk", ".pnn.police.uk")


def domain_allowed(domain: str, allowed: tuple[str, ...]) -> bool:
    """True when ``domain`` is one of ``allowed`` or a subdomain of one."""
    d = domain.lower().rstrip(".")
    return any(d == a.lower() or d.endswith("." + a.lower().lstrip(".")) for a in allowed)


def emails(text: str, context: ScreenContext) -> list[Finding]:
    """Email addresses outside public-sector and allowed domains."""
    out: list[Finding] = []
    # Only scan when some "@" follows a word character: handles ("@WMPolice") do not.
    at = text.find("@")
    while at > 0 and not (text[at - 1].isalnum() or text[at - 1] in "._-+"):
        at = text.find("@", at + 1)
    if at <= 0:
        return out
    for m in _EMAIL_RE.finditer(text):
        domain = m.group().rsplit("@", 1)[1].lower()
        if domain.endswith(PUBLIC_SECTOR_SUFFIXES) or domain_allowed(
            domain, context.allowed_domains
        ):
            continue
        out.append(
            Finding(
                "personal_data",
                m.start(),
                m.end(),
                "amber",
                f"A personal email address is personal data under {GDPR}; publishing it "
                "exposes its owner to contact and abuse.",
                "Remove the address and ask people to contact the force through 101 or online.",
            )
        )
    return out


# Full UK postcode: outward code + inward code (digit and two letters, no C I K M O V).
_POSTCODE_RE: Final = re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[ABD-HJLNP-UW-Z]{2}\b")


def postcodes(text: str) -> list[Finding]:
    """Full postcodes (a partial outward code such as 'M1' is not flagged)."""
    return [
        Finding(
            "personal_data",
            m.start(),
            m.end(),
            "amber",
            "A full postcode narrows a place down to a handful of homes; with anything else "
            f"about a person it can identify them ({GDPR}).",
            f"Give the area or street instead, or only the district ('{m.group().split()[0]}').",
        )
        for m in _POSTCODE_RE.finditer(text)
    ]


# Current (AB12 CDE), prefix (A123 BCD), suffix (ABC 123D); dateless only after "reg".
_VRM_RE: Final = re.compile(
    r"\b(?:[A-Z]{2}\d{2} ?[A-Z]{3}|[A-Z]\d{1,3} ?[A-Z]{3}|[A-Z]{3} ?\d{1,3}[A-Z])\b"
)
_DATELESS_RE: Final = re.compile(
    r"\b(?:reg(?:istration)?|index|plates?|VRM)(?:\s+(?:number|no\.?|mark|plate))?[:\s]+"
    r"((?:[A-Z]{1,3} ?\d{1,4}|\d{1,4} ?[A-Z]{1,3}))\b",
    re.IGNORECASE,
)
_NOT_VRM: Final = frozenset({"COVID19", "COVID 19"})


def registrations(text: str) -> list[Finding]:
    """Vehicle registration marks in current and older UK formats."""
    spans: dict[tuple[int, int], str] = {}
    for m in _VRM_RE.finditer(text):
        if m.group() not in _NOT_VRM:
            spans[(m.start(), m.end())] = m.group()
    for m in _DATELESS_RE.finditer(text):
        if m.group(1).isupper() or m.group(1)[:1].isdigit():
            spans.setdefault((m.start(1), m.end(1)), m.group(1))
    return [
        Finding(
            "personal_data",
            start,
            end,
            "amber",
            "A vehicle registration links to its registered keeper through the DVLA, so it is "
            f"personal data ({GDPR}). Publish it only when it helps an appeal (a stolen or "
            "wanted vehicle), not for a victim's or witness's car.",
            "Describe the vehicle (make, model, colour) without the registration unless the "
            "appeal needs it.",
        )
        for (start, end), _ in sorted(spans.items())
    ]


_DATE: Final = (
    r"\d{1,2}[/.\-]\d{1,2}[/.\-](?:19|20)?\d{2}|\d{1,2}(?:st|nd|rd|th)?\s+"
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?,?\s+(?:19|20)\d{2}"
)
_DOB_RE: Final = re.compile(
    r"\b(?:born(?:\s+on)?|d\.?o\.?b\.?|date\s+of\s+birth)\s*(?:is|was|:|-)?\s*(" + _DATE + ")",
    re.IGNORECASE,
)


def dates_of_birth(text: str) -> list[Finding]:
    """Dates of birth announced as such ("born 14/02/1989", "DOB: 4 May 1990")."""
    low = text.lower()
    if not ("born" in low or "dob" in low or "d.o.b" in low or "date of birth" in low):
        return []
    return [
        Finding(
            "personal_data",
            m.start(1),
            m.end(1),
            "amber",
            f"A full date of birth is a key identifier used in identity fraud ({GDPR}).",
            "Give an age or age range instead (e.g. 'aged 35').",
        )
        for m in _DOB_RE.finditer(text)
    ]


# NI number: two prefix letters (never D F I U V; Q is allowed because HMRC's own
# examples use QQ and the screen should catch those too), six digits, suffix A-D.
_NINO_RE: Final = re.compile(r"\b[A-CEGHJ-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")


def national_insurance(text: str) -> list[Finding]:
    """National Insurance numbers, spaced or not."""
    return [
        Finding(
            "personal_data",
            m.start(),
            m.end(),
            "red",
            f"A National Insurance number is a unique personal identifier ({GDPR}); it must "
            "never be published.",
            "Remove the number entirely.",
        )
        for m in _NINO_RE.finditer(text)
    ]


_STREET_TYPES: Final = (
    "Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Close|Drive|Dr|Way|Crescent|Cres|Court|Ct|Place|Pl|"
    "Gardens|Gdns|Grove|Terrace|Walk|Row|Square|Sq|Mews|View|Rise|Parade|Vale|Hill|Green|Fold|"
    "Croft|Meadow|Meadows|Park"
)
_ADDRESS_RE: Final = re.compile(
    r"\b(?:[Ff]lat\s+\d+[A-Za-z]?,?\s+)?\d{1,4}[A-Za-z]?,?\s+(?:[A-Z][\w'\u2019-]+\s+){1,3}(?:"
    + _STREET_TYPES
    + r")\b"
)
_HOME_CUE_RE: Final = re.compile(
    r"\b(?:lives?|living|resides?|residing|home(?:\s+address)?|address\s+is|staying)\b[^.!?\n]{0,25}$",
    re.IGNORECASE,
)


def street_addresses(text: str) -> list[Finding]:
    """House number + street; red when it is said to be someone's home."""
    out: list[Finding] = []
    for m in _ADDRESS_RE.finditer(text):
        before = text[max(0, m.start() - 40) : m.start()]
        home = bool(_HOME_CUE_RE.search(before))
        out.append(
            Finding(
                "personal_data",
                m.start(),
                m.end(),
                "red" if home else "amber",
                "A house number and street identify a home; publishing where a private person "
                f"lives breaches {GDPR} and can put them at risk.",
                "Give only the street or the area (e.g. 'a house on "
                + m.group().split(None, 1)[-1].lstrip(", ")
                + "').",
            )
        )
    return out


_URL_RE: Final = re.compile(
    r"\bhttps?://([\w.-]+)[^\s]*|\bwww\.([\w.-]+\.[a-z]{2,})[^\s]*"
    r"|\b((?:[\w-]+\.)+(?:com|co\.uk|org\.uk|org|net|uk|ly|io|me|gl|gd|info|be|cc))/[^\s]*",
    re.IGNORECASE,
)
SHORTENERS: Final = frozenset(
    {
        "bit.ly",
        "tinyurl.com",
        "ow.ly",
        "goo.gl",
        "t.co",
        "is.gd",
        "buff.ly",
        "rb.gy",
        "cutt.ly",
        "shorturl.at",
    }
)
DEFAULT_ALLOWED: Final = ("police.uk", "gov.uk", "nhs.uk", "crimestoppers-uk.org")


def links(text: str, context: ScreenContext) -> list[Finding]:
    """Links whose domain is outside the allowed list (defaults when none is given)."""
    allowed = context.allowed_domains or DEFAULT_ALLOWED
    out: list[Finding] = []
    if "/" not in text and "www." not in text.lower():
        return out
    for m in _URL_RE.finditer(text):
        domain = (m.group(1) or m.group(2) or m.group(3) or "").lower().rstrip(".")
        domain = domain.removeprefix("www.")
        if domain_allowed(domain, allowed) or domain_allowed(domain, DEFAULT_ALLOWED):
            continue
        shortener = domain in SHORTENERS
        if context.allowed_domains or shortener:
            severity: Severity = "amber"
        else:
            severity = "info"
        reason = (
            "a link shortener hides where the link goes, so readers cannot check it"
            if shortener
            else "the domain is not on the agency's list of approved sites"
        )
        out.append(
            Finding(
                "link",
                m.start(),
                m.end(),
                severity,
                f"Link to {domain}: {reason}. College of Policing social media guidance asks "
                "forces to link only to trusted, official sources.",
                "Link to the force website or another approved domain instead.",
            )
        )
    return out
