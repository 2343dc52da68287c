"""Detectors for UK personal-data formats and links (pure regular expressions).

Each detector takes the text (and the context where it matters) and returns findings.
Severities follow one principle: red for data that identifies or lets someone contact a
private individual (a mobile number, a landline or personal mailbox tied to a private
person, a National Insurance number, a date of birth, a house number and street), amber
for data that often does but is also routinely published by forces (a vehicle
registration in a stolen-car appeal, a full postcode, an organisation's email address,
the date of birth or address of a charged, wanted or missing person).

Formats are matched in any letter case (``ol16 2xy``, ``ky21 vzp``, ``nz 98 76 54 b``);
lower-case postcodes and registrations must also look real (a postcode area that exists,
a registration with a valid age identifier next to a word about a vehicle), so that
ordinary lower-case words are not mistaken for them.
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
    r"\b(?:(?:the|a|our|this|one)\s+witness\b(?!es)|witness's|mother|father|mum|dad|wife|husband|partner|son|daughter|neighbour|friend|"
    r"victim|owner|family|relatives?|brother|sister|grand(?:son|daughter|mother|father|ma|pa|ad)|nan|aunt|uncle"
    r"|cousin|residents?|finder|keeper|co-?ordinator|organiser|organizer|secretary|clerk|chair(?:man|woman|person)?"
    r"|volunteer|landlord|landlady|lady|gentleman|directly|personally|(?i:Mrs|Mr|Ms|Miss)\.?\s+[A-Z]"
    r"|(?:his|her|their|my)\s+(?:number|phone|mobile|landline)|text\s+me|call\s+me|ring\s+me"
    r"|call\s+[A-Z][a-z]+\s+on|ring\s+[A-Z][a-z]+)\b",
)
# The number is said to be that person's: the cue is right before it ("ring the victim's
# daughter on", "Mrs Pat Okafor ("), it is "them/him/her" in a sentence about such a
# person, or the caller is told to speak to them ("... to speak to the witness's mother").
_OWNED_BEFORE_RE: Final = re.compile(r"[^.!?\n]{0,200}$")
_ORGANISATION_RE: Final = re.compile(
    r"\b(?:police|officers?|us|we|our|team|force|council|crimestoppers|bureau|line|helpline|hotline"
    r"|service|office|centre|center|charity|trust|unit|department|switchboard|desk|room|hq)\b",
    re.IGNORECASE,
)
_PRONOUN_CONTACT_RE: Final = re.compile(
    r"\b(?:calls?|ring|rings|contact|contacts|text|texts|phone|phones)\s+(?:them|him|her)\s+(?:directly\s+)?"
    r"(?:on|at)\s*$",
    re.IGNORECASE,
)
_SPEAK_TO_RE: Final = re.compile(
    r"[^.!?\n]{0,12}?\b(?:speak|talk)\s+(?:to|with)\b[^.!?\n]{0,40}", re.IGNORECASE
)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _sentence_around(text: str, start: int, end: int) -> str:
    """The rough sentence holding ``text[start:end]`` (split on . ! ? + space, newlines)."""
    a = max(text.rfind(p, 0, start) for p in (". ", "! ", "? ", "\n")) + 1
    stops = [i for i in (text.find(p, end) for p in (". ", "! ", "? ", "\n")) if i != -1]
    return text[a : min(stops) + 1 if stops else len(text)]


def _normalise_uk(number: str) -> str:
    """National form with leading 0: ``+44 7700 900123`` -> ``07700900123``."""
    digits = _digits(number)
    if number.lstrip().startswith("+44") or digits.startswith("0044"):
        digits = digits[4:] if digits.startswith("0044") else digits[2:]
        digits = digits.removeprefix("0")
        digits = "0" + digits
    return digits


def _landline_severity(text: str, start: int, end: int, sentence: str) -> Severity:
    """Red when the number is tied to a private person, amber when such a person is only
    mentioned in the sentence, otherwise info (police lines are the norm).

    Tied: the person comes before the number in its sentence with no organisation in
    between ("the farmer's wife asked walkers to ring her on ...", "Mrs Pat Okafor (0117
    ..."), or the caller is told to speak to them ("... to speak to the witness's mother").
    """
    if not _PRIVATE_PERSON_RE.search(sentence):
        return "info"
    lead = _OWNED_BEFORE_RE.search(text, max(0, start - 200), start)
    lead_text = lead.group() if lead else ""
    cues = list(_PRIVATE_PERSON_RE.finditer(lead_text))
    if cues and not _ORGANISATION_RE.search(lead_text, cues[-1].end()):
        return "red"
    if _PRONOUN_CONTACT_RE.search(lead_text) and cues:
        return "red"
    speak = _SPEAK_TO_RE.match(text, end, end + 60)
    if speak and _PRIVATE_PERSON_RE.search(speak.group()):
        return "red"
    return "amber"


def phones(text: str, context: ScreenContext, untied: list[Finding] | None = None) -> list[Finding]:
    """UK telephone numbers other than public and the agency's own numbers.

    Landlines the text does not tie to a private person come back as info or amber; when
    ``untied`` is given they are put there instead, so the caller can raise those that
    follow a private person's name (``rules.link_names_to_identifiers``).
    """
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
        sentence = _sentence_around(text, m.start(), end) + text[end : end + 60]
        if national.startswith("07"):
            severity: Severity = "red"
            what = "a mobile number"
        elif national.startswith(("080", "084", "087", "03")):
            severity = "info"
            what = "a non-geographic number"
        else:
            # Landlines in appeals are nearly always police lines (info); red when the
            # text ties the number to a private person (a relative, a finder, a named
            # resident), amber when one is only mentioned nearby. A private person's
            # name right before the number is checked after names are found
            # (``rules.link_names_to_identifiers``).
            severity = _landline_severity(text, m.start(), end, sentence)
            what = "a telephone number"
        (
            untied
            if untied is not None and what == "a telephone number" and severity != "red"
            else out
        ).append(
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


# Consumer mailbox providers: an address there belongs to a person, not an organisation.
PERSONAL_MAIL_DOMAINS: Final = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "outlook.com",
        "outlook.co.uk",
        "live.com",
        "live.co.uk",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "aol.co.uk",
        "btinternet.com",
        "btopenworld.com",
        "sky.com",
        "talktalk.net",
        "virginmedia.com",
        "ntlworld.com",
        "blueyonder.co.uk",
        "tiscali.co.uk",
        "protonmail.com",
        "proton.me",
        "gmx.com",
        "gmx.co.uk",
        "mail.com",
        "zoho.com",
    }
)
# A mailbox named after a role or a group is an organisation's, even at a consumer provider.
_ROLE_MAILBOX_RE: Final = re.compile(
    r"info|admin|office|enquir|contact|team|club|group|society|association|trust|museum|police"
    r"|watch|community|council|charity|project|hub|support|events|bookings|hello|church|school",
    re.IGNORECASE,
)


def emails(text: str, context: ScreenContext) -> list[Finding]:
    """Email addresses outside public-sector and allowed domains.

    Red at a consumer mailbox provider (gmail, hotmail, btinternet ...) unless the mailbox
    is named after a role or group; amber elsewhere (often an organisation's address).
    """
    out: list[Finding] = []
    # Only scan when some "@" follows a word character: handles ("@WMPolice") do not.
    at = text.find("@")
    while at != -1 and not (at > 0 and (text[at - 1].isalnum() or text[at - 1] in "._-+")):
        at = text.find("@", at + 1)
    if at == -1:
        return out
    for m in _EMAIL_RE.finditer(text):
        domain = m.group().rsplit("@", 1)[1].lower()
        if domain.endswith(PUBLIC_SECTOR_SUFFIXES) or domain_allowed(
            domain, context.allowed_domains
        ):
            continue
        local = m.group().rsplit("@", 1)[0]
        personal = domain in PERSONAL_MAIL_DOMAINS and not _ROLE_MAILBOX_RE.search(local)
        out.append(
            Finding(
                "personal_data",
                m.start(),
                m.end(),
                "red" if personal else "amber",
                f"A personal email address is personal data under {GDPR}; publishing it "
                "exposes its owner to contact and abuse."
                + (
                    ""
                    if personal
                    else " Check it is an organisation's published address, not a person's."
                ),
                "Remove the address and ask people to contact the force through 101 or online.",
            )
        )
    return out


# Full UK postcode: outward code (area letters, district) + inward code (digit and two
# letters, no C I K M O V), in any letter case; the area must be one of the UK's postcode
# areas. The scan starts at the district digit (digits are rarer than letters, which keeps
# it fast) and looks back for the area letters.
_POSTCODE_TAIL_RE: Final = re.compile(r"\d[A-Za-z\d]? ?\d[ABD-HJLNP-UW-Zabd-hjlnp-uw-z]{2}\b")
_AREAS: Final = (
    "AB AL B BA BB BD BF BH BL BN BR BS BT BX CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL "
    "DN DT DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY "
    "L LA LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA "
    "SE SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV "
    "YO ZE"
)
POSTCODE_AREAS: Final = frozenset(_AREAS.split())
_ORDINAL_RE: Final = re.compile(r"\d(?:st|nd|rd|th)$", re.IGNORECASE)


def _letters_before(text: str, pos: int, most: int) -> int:
    """Start of the run of 1..``most`` ASCII letters ending at ``pos`` that begins a word,
    or -1."""
    a = pos
    while a > 0 and pos - a <= most and text[a - 1].isascii() and text[a - 1].isalpha():
        a -= 1
    if a == pos or pos - a > most or (a > 0 and (text[a - 1].isalnum() or text[a - 1] == "_")):
        return -1
    return a


def postcodes(text: str) -> list[Finding]:
    """Full postcodes in any case (a partial outward code such as 'M1' is not flagged)."""
    out: list[Finding] = []
    for m in _POSTCODE_TAIL_RE.finditer(text):
        a = _letters_before(text, m.start(), 2)
        if a == -1 or text[a : m.start()].upper() not in POSTCODE_AREAS:
            continue
        value = text[a : m.end()]
        if not value.isupper() and _ORDINAL_RE.search(value):
            continue  # "m6 3rd", "a1 4th": a road and an ordinal, not a postcode
        district = value.split()[0] if " " in value else value[:-3]
        out.append(
            Finding(
                "personal_data",
                a,
                m.end(),
                "amber",
                "A full postcode narrows a place down to a handful of homes; with anything else "
                f"about a person it can identify them ({GDPR}).",
                f"Give the area or street instead, or only the district ('{district}').",
            )
        )
    return out


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
# Lower- or mixed-case plates: current format only, with a real age identifier (02-29 for
# March, 51-79 for September) and a memory tag that DVLA issues, and only next to a word
# about a vehicle; older formats in lower case only straight after "reg"/"plate".
_VRM_CURRENT_TAIL_RE: Final = re.compile(r"(\d\d) ?[A-HJ-PR-Za-hj-pr-z]{3}\b")
_MEMORY_TAG: Final = frozenset("ABCDEFGHKLMNOPRSVWY")
_VRM_AFTER_REG_RE: Final = re.compile(
    r"\b(?:reg(?:istration)?|plates?|VRM)(?:\s+(?:number|no\.?|mark|plate))?[:\s(]+"
    r"([A-Z]\d{1,3} ?[A-Z]{3}|[A-Z]{3} ?\d{1,3}[A-Z])\b",
    re.IGNORECASE,
)
_VEHICLE_RE: Final = re.compile(
    r"\b(?:reg|registration|plates?|vrm|car|cars|van|vehicle|motorbike|motorcycle|bike|moped|scooter"
    r"|lorry|truck|pickup|hgv|4x4|suv|hatchback|saloon|estate|taxi|audi|bmw|ford|vauxhall|volkswagen|vw"
    r"|mercedes|toyota|nissan|honda|kia|hyundai|peugeot|renault|citroen|fiat|skoda|seat|mini|volvo"
    r"|land\s+rover|range\s+rover|jaguar|mazda|tesla|yamaha|suzuki|kawasaki|transit|corsa|golf|focus|fiesta)\b",
    re.IGNORECASE,
)


def registrations(text: str) -> list[Finding]:
    """Vehicle registration marks in current and older UK formats, in any case."""
    spans: dict[tuple[int, int], str] = {}
    for m in _VRM_RE.finditer(text):
        if m.group() not in _NOT_VRM:
            spans[(m.start(), m.end())] = m.group()
    for m in _DATELESS_RE.finditer(text):
        if m.group(1).isupper() or m.group(1)[:1].isdigit():
            spans.setdefault((m.start(1), m.end(1)), m.group(1))
    low = text.lower()
    if "reg" in low or "plate" in low or "vrm" in low:
        for m in _VRM_AFTER_REG_RE.finditer(text):  # older formats straight after "reg"
            spans.setdefault((m.start(1), m.end(1)), m.group(1))
    for m in _VRM_CURRENT_TAIL_RE.finditer(text):
        a = _letters_before(text, m.start(), 2)
        if a == -1 or m.start() - a != 2:
            continue
        value = text[a : m.end()]
        if value.isupper() or value[0].upper() not in _MEMORY_TAG or value[1] in "Ii":
            continue  # upper case is handled above
        age = int(m.group(1))
        if not (2 <= age <= 29 or 51 <= age <= 79):
            continue
        if _VEHICLE_RE.search(text, max(0, a - 60), m.end() + 60):
            spans.setdefault((a, m.end()), value)
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


_MONTH: Final = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATE: Final = (
    r"\d{1,2}\s?[/.\-]\s?\d{1,2}\s?[/.\-]\s?(?:19|20)?\d{2}"  # 14/02/1989, 21.11.1950, 03-07-82
    r"|(?:19|20)\d{2}-\d{1,2}-\d{1,2}"  # ISO 2001-06-25
    r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r",?\s+(?:19|20)\d{2}"  # 12 January 1941
    r"|" + _MONTH + r"\s+\d{1,2}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{2}"  # January 12, 1941
)
# The cue, then at most a few words or brackets ("date of birth (12 January 1941)",
# "DOB is believed to be 3/7/82"), then the date.
_DOB_RE: Final = re.compile(
    r"\b(?:born(?:\s+on)?|d\.?o\.?b\.?|date\s+of\s+birth|birth\s*date|birthday)"
    r"(?:\s*(?:is|was|of|:|-|\(|\[|believed\s+to\s+be|given\s+as|on|the))*\s*(" + _DATE + ")",
    re.IGNORECASE,
)
# Forces publish a date of birth to identify a charged, wanted or missing person.
_PURPOSE_RE: Final = re.compile(
    r"\b(?:charged|wanted|missing|last\s+seen|appear(?:s|ed)?\s+(?:at|before)|jailed|sentenced|convicted"
    r"|remanded|recall(?:ed)?|absconded|escaped|fail(?:ed)?\s+to\s+appear|suspect(?:ed)?)\b",
    re.IGNORECASE,
)


def dates_of_birth(text: str) -> list[Finding]:
    """Dates of birth announced as such ("born 14/02/1989", "DOB: 2001-06-25").

    Red: a full date of birth is a key identifier. Amber when the sentence is about a
    charged, wanted or missing person, whom forces identify on purpose.
    """
    low = text.lower()
    if not ("born" in low or "dob" in low or "d.o.b" in low or "of birth" in low or "birth" in low):
        return []
    out: list[Finding] = []
    for m in _DOB_RE.finditer(text):
        purpose = bool(_PURPOSE_RE.search(_sentence_around(text, m.start(), m.end())))
        out.append(
            Finding(
                "personal_data",
                m.start(1),
                m.end(1),
                "amber" if purpose else "red",
                f"A full date of birth is a key identifier used in identity fraud ({GDPR}).",
                "Give an age or age range instead (e.g. 'aged 35').",
            )
        )
    return out


# NI number: two prefix letters (never D F I U V; Q is allowed because HMRC's own
# examples use QQ and the screen should catch those too), six digits, suffix A-D.
_NINO_RE: Final = re.compile(r"\b[A-CEGHJ-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b", re.IGNORECASE)


def national_insurance(text: str) -> list[Finding]:
    """National Insurance numbers, spaced or not, in any case."""
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
# "2 Staple Hill PCs": a count of things, not a house number.
_NOT_ADDRESS_AFTER_RE: Final = re.compile(
    r"\s+(?:PCs?|PCSOs?|officers?|police|cops|teams?|residents|pupils|schools?|stations?|shops?"
    r"|businesses|properties|homes|houses|flats|people|members|players|fans|runners)\b"
)
_COURT_RE: Final = re.compile(r"(?:Crown|Magistrates'?|County|Youth|Family|Coroner'?s)\s+Court$")
# The number and street of a shop, pub or office are not a private person's home.
_BUSINESS_CUE_RE: Final = re.compile(
    r"\b(?:shop|store|business|premises|pub|bar|restaurant|cafe|takeaway|office|offices|bank|church"
    r"|mosque|temple|school|surgery|pharmacy|chemist|hotel|club|factory|warehouse|salon|studio"
    r"|station|library|centre|center|supermarket|garage|unit|company|firm|venue|hall)\b[^.!?\n]{0,30}$",
    re.IGNORECASE,
)


def street_addresses(text: str) -> list[Finding]:
    """House number + street.

    Red: a house number identifies a home. Amber when it is a business, or the sentence is
    about a charged, wanted or missing person and the text does not call it their home
    (forces give where a defendant is from, though usually without the number).
    """
    out: list[Finding] = []
    for m in _ADDRESS_RE.finditer(text):
        if _NOT_ADDRESS_AFTER_RE.match(text, m.end()) or _COURT_RE.search(m.group()):
            continue
        before = text[max(0, m.start() - 40) : m.start()]
        home = bool(_HOME_CUE_RE.search(before))
        business = bool(_BUSINESS_CUE_RE.search(before))
        purpose = bool(_PURPOSE_RE.search(_sentence_around(text, m.start(), m.end())))
        out.append(
            Finding(
                "personal_data",
                m.start(),
                m.end(),
                "red" if home or not (business or purpose) else "amber",
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
