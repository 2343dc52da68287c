"""Evidence bundles as bytes: pack files into a zip anyone can check, and check one.

The standard library only, no Django: ``beatdesk evidence verify`` runs anywhere Python
3.12 does, and a third party can read this file to see exactly what is checked.

Format:

- A ZIP archive, entries *stored* (not compressed), sorted by name, each with the same
  timestamp and permissions, so the same files always give the same bytes.
- ``manifest.sha256``: one ``<sha256>  <path>`` line per other file, sorted by path (the
  format ``sha256sum -c`` reads), then a last line ``# manifest-sha256 <hex>`` holding the
  SHA-256 of everything above it, so a change to the manifest itself is caught and
  named too.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import sys
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

MANIFEST = "manifest.sha256"
SELF_LINE = re.compile(r"^# manifest-sha256 ([0-9a-f]{64})\n?$")
# What reading a damaged archive can raise (a flipped flag bit can even ask for an
# unsupported compression or encryption): each means "this file cannot be trusted".
UNREADABLE = (
    zipfile.BadZipFile,
    OSError,
    ValueError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    zlib.error,
)
ENTRY_LINE = re.compile(r"^([0-9a-f]{64})  (\S(?:.*\S)?)$")


def json_file(value: object) -> bytes:
    """A JSON file for a bundle: keys sorted, indented, UTF-8, one newline at the end,
    so the same value always gives the same bytes."""
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def manifest_for(files: Mapping[str, bytes]) -> bytes:
    body = "".join(
        f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in sorted(files)
    ).encode("utf-8")
    return body + f"# manifest-sha256 {hashlib.sha256(body).hexdigest()}\n".encode()


def pack(files: Mapping[str, bytes], stamp: datetime) -> bytes:
    """The bundle of ``files`` (path → bytes) with its manifest, dated ``stamp``.

    Paths are relative, use ``/`` and must not contain ``..``, a newline or the manifest's
    name. Deterministic: the same files and stamp give the same bytes.
    """
    for name in files:
        if not _safe_path(name) or "\n" in name or name != name.strip() or name == MANIFEST:
            raise ValueError(f"not a bundle path: {name!r}")
    everything = {**files, MANIFEST: manifest_for(files)}
    date_time = (
        max(stamp.year, 1980),
        stamp.month,
        stamp.day,
        stamp.hour,
        stamp.minute,
        stamp.second,
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(everything):
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3  # Unix, so the permissions below mean the same everywhere
            info.external_attr = 0o100644 << 16
            archive.writestr(info, everything[name])
    return out.getvalue()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    #: The first file that does not hold ("" when all hold, "(archive)" when unreadable).
    failed: str = ""
    reason: str = ""


def _parse_manifest(raw: bytes) -> dict[str, str] | None:
    """path → sha256, or None when the manifest is damaged (or its self-hash fails)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.splitlines(keepends=True)
    if not lines:
        return None
    seal = SELF_LINE.match(lines[-1])
    body = "".join(lines[:-1]).encode("utf-8")
    if seal is None or hashlib.sha256(body).hexdigest() != seal.group(1):
        return None
    entries: dict[str, str] = {}
    for line in lines[:-1]:
        match = ENTRY_LINE.match(line.rstrip("\n"))
        if match is None or match.group(2) in entries:
            return None
        entries[match.group(2)] = match.group(1)
    return entries


def verify_bytes(bundle: bytes) -> Verdict:
    """Check every file against the manifest; name the first that does not hold."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(bundle))
        names = archive.namelist()
    except UNREADABLE as error:
        return Verdict(False, 0, "(archive)", f"not a readable zip archive: {error}")
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        return Verdict(False, 0, duplicate, "appears twice in the archive")
    if MANIFEST not in names:
        return Verdict(False, 0, MANIFEST, "missing")
    try:
        manifest = _parse_manifest(archive.read(MANIFEST))
    except UNREADABLE as error:
        return Verdict(False, 0, MANIFEST, f"unreadable: {error}")
    if manifest is None:
        return Verdict(False, 0, MANIFEST, "damaged: its own SHA-256 does not match")
    if not manifest:
        return Verdict(False, 0, MANIFEST, "lists no files")
    checked = 0
    contents: dict[str, bytes] = {}
    for name in sorted(set(names) | set(manifest)):
        if name == MANIFEST:
            continue
        if name not in manifest:
            return Verdict(False, checked, name, "not listed in the manifest")
        if name not in names:
            return Verdict(False, checked, name, "listed in the manifest but missing")
        if not _safe_path(name):
            return Verdict(False, checked, name, "not a bundle path (absolute or '..')")
        try:
            data = archive.read(name)
        except UNREADABLE as error:
            return Verdict(False, checked, name, f"unreadable: {error}")
        if hashlib.sha256(data).hexdigest() != manifest[name]:
            return Verdict(False, checked, name, "SHA-256 does not match the manifest")
        contents[name] = data
        checked += 1
    # Every file holds; now the container itself: a bundle is exactly what ``pack``
    # makes of its files, so extra bytes before or after, a comment, other dates,
    # permissions or order all show here.
    first = archive.infolist()[0].date_time
    if pack(contents, datetime(*first, tzinfo=UTC)) != bundle:
        return Verdict(
            False,
            checked,
            "(archive)",
            "every file matches, but the archive around them was changed (extra bytes, "
            "a comment, dates, permissions or order)",
        )
    return Verdict(True, checked)


def _safe_path(name: str) -> bool:
    return bool(name) and not name.startswith("/") and ".." not in name.split("/")


def main(argv: Sequence[str] | None = None) -> int:
    """``beatdesk evidence verify BUNDLE``: exit 0 when every hash holds, 1 naming the
    first file that does not, 2 for a usage error."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] != "verify":
        print("usage: beatdesk evidence verify BUNDLE.zip", file=sys.stderr)
        return 2
    path = Path(args[1])
    try:
        bundle = path.read_bytes()
    except OSError as error:
        print(f"cannot read {path}: {error.strerror or error}", file=sys.stderr)
        return 2
    verdict = verify_bytes(bundle)
    if verdict.ok:
        digest = hashlib.sha256(bundle).hexdigest()
        print(f"OK: all {verdict.checked} files match the manifest. Bundle SHA-256 {digest}")
        return 0
    print(f"FAILED: {verdict.failed}: {verdict.reason}", file=sys.stderr)
    return 1
