"""Built-in post templates: the posts a force writes every week, with blanks to fill.

A blank is written ``[like this]``. A post still holding one of its template's blanks is
refused, so a half-filled appeal never goes out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .models import Purpose

BLANK = re.compile(r"\[[^\[\]\n]{1,60}\]")


@dataclass(frozen=True)
class PostTemplate:
    key: str
    label: str
    purpose: str
    text: str

    def blanks(self) -> list[str]:
        return BLANK.findall(self.text)


TEMPLATES: tuple[PostTemplate, ...] = (
    PostTemplate(
        "road_closure",
        "Road closure",
        Purpose.OPERATIONS,
        "ROAD CLOSURE: [road] is closed between [from] and [to] because of [reason]. "
        "Please avoid the area and allow extra time. We will post when it reopens.",
    ),
    PostTemplate(
        "missing_person",
        "Missing-person appeal",
        Purpose.INVESTIGATION,
        "MISSING: Can you help us find [first name], [age], from [area]? They were last "
        "seen [when] in [place], wearing [clothing]. If you see them, call 999 quoting "
        "[log number].",
    ),
    PostTemplate(
        "collision_update",
        "Collision update",
        Purpose.INVESTIGATION,
        "UPDATE: Following the collision on [road] [when], [update]. If you saw it or have "
        "dashcam footage, please call 101 quoting [log number].",
    ),
    PostTemplate(
        "warrant_executed",
        "Warrant executed",
        Purpose.OPERATIONS,
        "This morning officers executed a warrant at an address in [area]. [what was found]. "
        "If you know of drug dealing where you live, call 101 or Crimestoppers anonymously "
        "on 0800 555 111.",
    ),
    PostTemplate(
        "crime_prevention",
        "Crime prevention",
        Purpose.ENGAGEMENT,
        "[tip]. More crime prevention advice: [link]",
    ),
    PostTemplate(
        "on_duty",
        "On duty",
        Purpose.ENGAGEMENT,
        "On duty in [area] until [time]. Stop us for a chat or message us here. "
        "In an emergency always call 999.",
    ),
    PostTemplate(
        "off_duty",
        "Off duty",
        Purpose.ENGAGEMENT,
        "Signing off for today: this account is not watched until [time]. To report a crime "
        "call 101 or report online; in an emergency always call 999.",
    ),
)
BY_KEY = {t.key: t for t in TEMPLATES}


def unfilled_blanks(template_key: str, text: str) -> list[str]:
    """The template's blanks still present in ``text`` (empty for no template)."""
    template = BY_KEY.get(template_key)
    if template is None:
        return []
    return [blank for blank in template.blanks() if blank in text]
