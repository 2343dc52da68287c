"""Small real image files for tests (made with sharp; platforms that inspect images,
such as the Bluesky PDS, accept them)."""

from __future__ import annotations

import base64

#: 8x8 JPEG, 270 bytes.
JPEG = base64.b64decode(
    "/9j/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYnKSopGR8tMC0o"
    "MCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgo"
    "KCgoKCgoKCj/wAARCAAIAAgDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAb/xAAUEAEAAAAAAAAAAAAA"
    "AAAAAAAA/8QAFQEBAQAAAAAAAAAAAAAAAAAABgf/xAAUEQEAAAAAAAAAAAAAAAAAAAAA/9oADAMBAAIRAxEAPwCX"
    "AUUYf//Z"
)
#: 8x8 PNG, 95 bytes.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAEUlEQVR4nGM4"
    "Y5yGFTEMLQkA+UZZQaNAEfcAAAAASUVORK5CYII="
)
#: 1x1 GIF.
GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
#: The start of an MP4 file (an ``ftyp`` box, brand isom): enough for type sniffing.
MP4 = bytes.fromhex("0000001c667479706973") + b"om\x00\x00\x02\x00isomiso2mp41" + b"\x00" * 64
