"""Geotags: only an exact point counts; a named place (often a whole city) does not."""

from __future__ import annotations

from typing import Any

import pytest

from beatdesk.channels.connectors.replay import _geo
from beatdesk.channels.connectors.x.connector import _geotag


@pytest.mark.parametrize(
    ("tweet", "expected"),
    [
        # Shape from the X API v2 reference (tweet.fields=geo): GeoJSON order is lon, lat.
        (
            {
                "geo": {
                    "place_id": "01a9a39529b27f36",
                    "coordinates": {"type": "Point", "coordinates": [-2.33, 53.485]},
                }
            },
            (53.485, -2.33),
        ),
        ({"geo": {"place_id": "01a9a39529b27f36"}}, None),
        ({}, None),
        ({"geo": {"coordinates": {"type": "Point", "coordinates": [-2.33]}}}, None),
        ({"geo": {"coordinates": {"type": "Point", "coordinates": [200, 53.4]}}}, None),
        ({"geo": {"coordinates": {"type": "Polygon", "coordinates": [-2.33, 53.485]}}}, None),
        ({"geo": "somewhere"}, None),
    ],
)
def test_x_geotag(tweet: dict[str, Any], expected: tuple[float, float] | None) -> None:
    assert _geotag(tweet) == expected


def test_replay_geotag() -> None:
    assert _geo({"lat": 53.48, "lon": -2.29}) == (53.48, -2.29)
    assert _geo({"lat": "53.48", "lon": -2.29}) is None
    assert _geo({}) is None
