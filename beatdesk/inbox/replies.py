"""Reply templates: built-in wording every agency starts with, and its own overrides.

Placeholders: ``{agency}`` (short name), ``{non_emergency}`` (101 by default),
``{online_report}`` (the agency's online reporting address, or the non-emergency number
when it has none), ``{handle}`` (the person being answered, without @).
"""

from __future__ import annotations

from dataclasses import dataclass

from beatdesk.agencies.models import Agency

from .models import ReplyTemplate
from .process import settings_for


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    text: str


BUILT_IN: tuple[Template, ...] = (
    Template(
        "acknowledge",
        "Acknowledge",
        "Thank you for getting in touch. We've seen your message and someone from "
        "{agency} will get back to you.",
    ),
    Template(
        "emergency",
        "Emergency: call 999",
        "If anyone is in immediate danger or a crime is happening now, please call 999 "
        "straight away. Social media is not monitored for emergencies at every moment. "
        "If you can't speak, call 999 and press 55 when asked.",
    ),
    Template(
        "report_crime",
        "Report a crime (101 / online)",
        "Thanks for letting us know. Please report this to us on {non_emergency} or "
        "online at {online_report} so it can be recorded and investigated. Please don't "
        "share personal details here.",
    ),
    Template(
        "advice",
        "Advice and signposting",
        "Thanks for your message. You can find advice and information at {online_report}, "
        "or call {non_emergency} if you need to speak to someone.",
    ),
    Template(
        "private_message",
        "Move to a private message",
        "Thanks for contacting {agency}. Please don't post personal details publicly; "
        "send us a direct message and we'll pick it up there.",
    ),
)


def templates_for(agency: Agency) -> list[Template]:
    """The agency's templates: built-ins with its own wording where it has some."""
    own = {t.key: t for t in ReplyTemplate.objects.filter(agency=agency)}
    merged = [
        Template(t.key, own[t.key].name, own[t.key].text) if t.key in own else t for t in BUILT_IN
    ]
    built_in_keys = {t.key for t in BUILT_IN}
    merged.extend(
        Template(t.key, t.name, t.text) for t in own.values() if t.key not in built_in_keys
    )
    return merged


def render_template(agency: Agency, template: Template, *, handle: str) -> str:
    settings = settings_for(agency.pk)
    values = {
        "agency": agency.short_name,
        "non_emergency": settings.non_emergency_number or "101",
        "online_report": settings.online_report_url or settings.non_emergency_number or "101",
        "handle": handle.lstrip("@"),
    }
    text = template.text
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text
