"""Reading the place a public profile states (``locality.profile.stated_place``)."""

from __future__ import annotations

import pytest

from beatdesk.language.locality.profile import stated_place


@pytest.mark.parametrize(
    ("location", "description", "expected"),
    [
        ("Salford, UK", "📍 Leeds", "Salford, UK"),  # the location field wins
        ("", "📍 Eccles, Salford | dad of two", "Eccles, Salford"),
        ("", "Mum of two. Based in Stockport and loving it", "Stockport"),
        ("", "Salford born and bred", "Salford"),
        ("", "From Wythenshawe.", "Wythenshawe"),
        ("", "Location: Bolton", "Bolton"),
        ("", "Based in Ashton-under-Lyne.", "Ashton-under-Lyne"),
        ("", "Love Manchester United", ""),  # no cue: no guess
        ("", "", ""),
    ],
)
def test_stated_place(location: str, description: str, expected: str) -> None:
    assert stated_place(location, description) == expected


@pytest.mark.parametrize(
    "hostile",
    [
        "A-" * 150 + "a",
        "A " * 150 + "a",
        "From " + "A-on-" * 70,
        "Based in " + "Aa-" * 100,
        "x" * 100_000,
    ],
)
def test_hostile_biographies_are_read_in_linear_time(hostile: str) -> None:
    # These took seconds to minutes with the first patterns (nested repetition with a
    # shared separator); a regression makes this test hang rather than pass.
    assert len(stated_place("", hostile)) <= 120
