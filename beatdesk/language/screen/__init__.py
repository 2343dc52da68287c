"""Pre-publication risk screen ("reflect before informing").

Public API::

    screen(text, context=None) -> Screening
    screening_to_dict(screening) -> dict

``screen`` never raises on any string. Each :class:`Finding` points at the characters it
is about (``text[start:end]``), says in plain English which rule or law is at stake and
suggests a fix. ``Screening.risk`` is ``red`` when any finding is red, ``amber`` when any
is amber, otherwise ``green`` (``info`` findings are advice only).

Runtime dependencies: the standard library only (the name model's weights are a small
gzip'd JSON file in ``artefacts/``, loaded lazily once per process).
"""

from __future__ import annotations

from typing import Any

from beatdesk.language.screen import accuracy, formats, rules, tone
from beatdesk.language.screen.model import (
    SEVERITY_RANK,
    Finding,
    Kind,
    Risk,
    ScreenContext,
    Screening,
    Severity,
)
from beatdesk.language.screen.names import find_person_names, tokenize

__all__ = [
    "Finding",
    "Kind",
    "Risk",
    "ScreenContext",
    "Screening",
    "Severity",
    "screen",
    "screening_to_dict",
]

# A name whose raw tagger score is below this is reported only when the law is at stake
# (victim, child) and then only if it is a known first name. The tagger's own cut-off is
# lower (tuned for recall on tweets); this one was chosen on the development part of the
# UK police posts so that ordinary posts stay mostly green; see docs/quality/screen.md.
NAME_MIN_SCORE = -4.0

_EMPTY_CONTEXT = ScreenContext()


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Drop findings wholly inside a more severe (or equal, earlier) finding of the same kind."""
    ordered = sorted(
        findings, key=lambda f: (f.start, -(f.end - f.start), -SEVERITY_RANK[f.severity])
    )
    kept: list[Finding] = []
    for f in ordered:
        if any(
            k.kind == f.kind
            and k.start <= f.start
            and f.end <= k.end
            and SEVERITY_RANK[k.severity] >= SEVERITY_RANK[f.severity]
            for k in kept
        ):
            continue
        kept.append(f)
    return kept


def screen(text: str, context: ScreenContext | None = None) -> Screening:
    """Screen one post before publication; see the module docstring for the contract."""
    ctx = context or _EMPTY_CONTEXT
    findings: list[Finding] = []
    untied_landlines: list[Finding] = []
    findings += formats.phones(text, ctx, untied_landlines)
    findings += formats.emails(text, ctx)
    findings += formats.postcodes(text)
    findings += formats.registrations(text)
    findings += formats.dates_of_birth(text)
    findings += formats.national_insurance(text)
    findings += formats.street_addresses(text)
    # Red personal data (a private person's number, mailbox, date of birth, home address).
    identifiers = [f for f in findings if f.severity == "red"]
    findings += formats.links(text, ctx)

    # Names: skip tokens already covered by an email, link or registration.
    taken = [(f.start, f.end) for f in findings + untied_landlines]
    tokens = tokenize(text)
    if taken:
        tokens = [t for t in tokens if not any(a <= t[1] < b for a, b in taken)]
    names = rules.add_named_as(text, find_person_names(text, tokens) if tokens else [])
    name_findings, _ = rules.name_findings(text, names, ctx, NAME_MIN_SCORE)
    # A private person's name next to their own number, email, date of birth or address.
    name_findings, untied_landlines = rules.link_names_to_identifiers(
        text, name_findings, identifiers, untied_landlines
    )
    findings += name_findings
    findings += untied_landlines
    findings += rules.identifiers_of_protected_people(text)
    findings += rules.contempt(text, ctx)
    findings += rules.operational(text)
    findings += tone.tone(text)
    findings += accuracy.accuracy(text, ctx)

    kept = _dedupe(findings)
    kept.sort(key=lambda f: (f.start, f.end, f.kind))
    top = max((SEVERITY_RANK[f.severity] for f in kept), default=0)
    risk: Risk = "red" if top == 2 else "amber" if top == 1 else "green"
    return Screening(risk=risk, findings=tuple(kept))


def screening_to_dict(s: Screening) -> dict[str, Any]:
    """JSON-ready form of a screening.

    Shape: ``{"risk", "findings": [{"kind", "start", "end", "severity", "explanation",
    "suggestion"}]}``.
    """
    return {
        "risk": s.risk,
        "findings": [
            {
                "kind": f.kind,
                "start": f.start,
                "end": f.end,
                "severity": f.severity,
                "explanation": f.explanation,
                "suggestion": f.suggestion,
            }
            for f in s.findings
        ],
    }
