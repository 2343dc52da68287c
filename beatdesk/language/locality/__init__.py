"""Resolve free-text places (profile locations, "Salford, UK", "M14") offline.

Public API::

    locate(text, extra_places=None) -> Location | None
    locate_many(texts, extra_places=None) -> list[Location | None]
    Gazetteer().add(name, lat, lon, local_authority, force, ...)

A :class:`Location` carries the place, its coordinates, local authority and police force
area (names as in the ONS LAD21->CSP21->PFA21 lookup) and a confidence. None means "not
a UK place we can pin down": non-places, places abroad, and country-only texts ("UK",
"Scotland"), which cannot pick a force. Scotland and Northern Ireland resolve to their
councils with ``force`` None (Police Scotland and the PSNI are outside the ONS lookup;
``country`` says which). Standard library only; the committed index is read on first use.
"""

from __future__ import annotations

from collections.abc import Iterable

from beatdesk.language.locality.gazetteer import ExtraPlace, Gazetteer, Location
from beatdesk.language.locality.index import load_index
from beatdesk.language.locality.resolver import Resolver

__all__ = ["ExtraPlace", "Gazetteer", "Location", "locate", "locate_many"]

_resolver: Resolver | None = None


def _get_resolver() -> Resolver:
    global _resolver
    if _resolver is None:
        _resolver = Resolver(load_index())
    return _resolver


def locate(text: str, extra_places: Gazetteer | None = None) -> Location | None:
    """Resolve one free-text location; None when it is not a UK place below country level.

    ``extra_places`` (an agency's own names) take precedence over the committed index.
    Never raises for odd input: any string is accepted.
    """
    return _get_resolver().resolve(text, extra_places)


def locate_many(
    texts: Iterable[str], extra_places: Gazetteer | None = None
) -> list[Location | None]:
    """Resolve many texts, in order; repeated texts are resolved once."""
    resolver = _get_resolver()
    memo: dict[str, Location | None] = {}
    results: list[Location | None] = []
    for text in texts:
        if text not in memo:
            memo[text] = resolver.resolve(text, extra_places)
        results.append(memo[text])
    return results
