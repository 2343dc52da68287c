"""Small pure-Python helpers for GeoJSON area boundaries (WGS84 lon/lat).

Boundaries are kept as GeoJSON so the embedded SQLite default needs no spatial
extension; areas are few (hundreds per agency), so plain Python is fast enough.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

Ring = list[list[float]]


class GeometryError(ValueError):
    """The boundary is not a usable GeoJSON Polygon or MultiPolygon."""


def polygons(geometry: dict[str, Any]) -> Iterator[list[Ring]]:
    """Yield each polygon (outer ring first, then holes) of a Polygon/MultiPolygon."""
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if kind == "Polygon":
        yield coordinates  # type: ignore[misc]
    elif kind == "MultiPolygon":
        yield from coordinates  # type: ignore[misc]
    else:
        raise GeometryError(f"Expected a Polygon or MultiPolygon, got {kind!r}")


def validate_geometry(geometry: dict[str, Any]) -> None:
    """Raise ``GeometryError`` unless every ring is closed lon/lat with ≥ 4 points."""
    if not isinstance(geometry, dict):
        raise GeometryError("A boundary must be a GeoJSON geometry object")
    count = 0
    for polygon in polygons(geometry):
        for ring in polygon:
            if len(ring) < 4 or ring[0] != ring[-1]:
                raise GeometryError("Each ring needs at least 4 points and must be closed")
            for point in ring:
                lon, lat = float(point[0]), float(point[1])
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    raise GeometryError(f"Point {point} is not longitude/latitude")
            count += 1
    if count == 0:
        raise GeometryError("The boundary has no rings")


def _ring_area_and_centroid(ring: Ring) -> tuple[float, float, float]:
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    area /= 2
    if area == 0:
        xs = [p[0] for p in ring]
        ys = [p[1] for p in ring]
        return 0.0, sum(xs) / len(xs), sum(ys) / len(ys)
    return area, cx / (6 * area), cy / (6 * area)


def centroid(geometry: dict[str, Any]) -> tuple[float, float]:
    """Area-weighted centroid of the outer rings, as (lat, lon)."""
    total = sx = sy = 0.0
    for polygon in polygons(geometry):
        area, x, y = _ring_area_and_centroid(polygon[0])
        weight = abs(area)
        total += weight
        sx += x * weight
        sy += y * weight
    if total == 0:
        raise GeometryError("The boundary has no area")
    return sy / total, sx / total


def _point_in_ring(lon: float, lat: float, ring: Ring) -> bool:
    inside = False
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        if (y0 > lat) != (y1 > lat):
            x_at = x0 + (lat - y0) * (x1 - x0) / (y1 - y0)
            if lon < x_at:
                inside = not inside
    return inside


def contains(geometry: dict[str, Any], lat: float, lon: float) -> bool:
    """True when (lat, lon) lies inside the boundary (holes excluded)."""
    for polygon in polygons(geometry):
        if _point_in_ring(lon, lat, polygon[0]) and not any(
            _point_in_ring(lon, lat, hole) for hole in polygon[1:]
        ):
            return True
    return False


def bounds(geometries: list[dict[str, Any]]) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) over all the geometries."""
    xs: list[float] = []
    ys: list[float] = []
    for geometry in geometries:
        for polygon in polygons(geometry):
            for point in polygon[0]:
                xs.append(point[0])
                ys.append(point[1])
    if not xs:
        raise GeometryError("Nothing to bound")
    return min(xs), min(ys), max(xs), max(ys)


def svg_path(
    geometry: dict[str, Any], box: tuple[float, float, float, float], width: int, height: int
) -> str:
    """An SVG path ``d`` for the boundary, fitted into ``width``x``height`` pixels.

    Uses a simple equirectangular projection corrected for latitude, which is accurate
    enough at the scale of a force area.
    """
    min_lon, min_lat, max_lon, max_lat = box
    x_scale = math.cos(math.radians((min_lat + max_lat) / 2))
    span_x = max((max_lon - min_lon) * x_scale, 1e-9)
    span_y = max(max_lat - min_lat, 1e-9)
    scale = min(width / span_x, height / span_y)
    parts: list[str] = []
    for polygon in polygons(geometry):
        for ring in polygon:
            points = [
                f"{(lon - min_lon) * x_scale * scale:.1f},{(max_lat - lat) * scale:.1f}"
                for lon, lat in ((p[0], p[1]) for p in ring)
            ]
            parts.append("M" + "L".join(points) + "Z")
    return "".join(parts)
