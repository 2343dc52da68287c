"""Value types of the screen: findings, screenings and the optional context."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal[
    "personal_data",
    "victim_identification",
    "child_identification",
    "contempt",
    "operational_detail",
    "tone",
    "accuracy",
    "link",
]
Severity = Literal["info", "amber", "red"]
Risk = Literal["green", "amber", "red"]

SEVERITY_RANK: dict[str, int] = {"info": 0, "amber": 1, "red": 2}


@dataclass(frozen=True)
class Finding:
    """One problem in the text: ``text[start:end]`` is what it is about.

    ``explanation`` names the rule or law at stake in plain English; ``suggestion`` is a
    concrete fix (a rewording or a redaction) the author can apply.
    """

    kind: Kind
    start: int
    end: int
    severity: Severity
    explanation: str
    suggestion: str


@dataclass(frozen=True)
class Screening:
    """The verdict on one text: ``risk`` is the highest severity found (info -> green)."""

    risk: Risk
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class ScreenContext:
    """What the caller knows beyond the text; every field is optional.

    - ``allowed_domains``: link domains the agency publishes to (subdomains included).
    - ``confirmed_facts``: during an incident, either a mapping such as
      ``{"injured": 2, "arrests": 3}`` or a list of sentences such as
      ``["Two people were injured", "3 arrests"]``.
    - ``charged_names``: people charged in live proceedings (for contempt).
    - ``incident_active``: crisis mode; accuracy checks run whenever facts are given.
    - ``agency_phone_numbers``: the agency's own numbers, never flagged.
    """

    allowed_domains: tuple[str, ...] = ()
    confirmed_facts: Mapping[str, Any] | Sequence[str] | None = None
    charged_names: tuple[str, ...] = ()
    incident_active: bool = False
    agency_phone_numbers: tuple[str, ...] = field(default=())

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ScreenContext:
        """Build from a JSON object; raise ``ValueError`` on a field of the wrong type."""

        def strings(name: str) -> tuple[str, ...]:
            value = obj.get(name, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f'"{name}" must be a list of strings')
            return tuple(value)

        facts = obj.get("confirmed_facts")
        if facts is not None and not isinstance(facts, dict | list):
            raise ValueError('"confirmed_facts" must be an object or a list')
        active = obj.get("incident_active", False)
        if not isinstance(active, bool):
            raise ValueError('"incident_active" must be true or false')
        return cls(
            allowed_domains=strings("allowed_domains"),
            confirmed_facts=facts,
            charged_names=strings("charged_names"),
            incident_active=active,
            agency_phone_numbers=strings("agency_phone_numbers"),
        )
