"""Property tests of the bundle format (``intelligence.seal``), no database needed.

For random files: a packed bundle verifies; packing again gives the same bytes; any
changed byte in any file (the manifest included) fails verification naming that file;
a byte changed anywhere in the archive itself fails too.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beatdesk.intelligence.seal import MANIFEST, pack, verify_bytes

STAMP = datetime(2026, 11, 23, 14, 30, 12, tzinfo=UTC)

names = st.from_regex(r"(payloads/)?[a-z0-9][a-z0-9._-]{0,20}\.(json|html|pdf|bin)", fullmatch=True)
file_sets = st.dictionaries(names, st.binary(max_size=2000), min_size=1, max_size=6)


def _members(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rezip(files: dict[str, bytes]) -> bytes:
    """Write members back as they are (a tamperer repacking the archive)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


@given(file_sets)
def test_a_packed_bundle_verifies_and_packs_to_the_same_bytes(files: dict[str, bytes]) -> None:
    bundle = pack(files, STAMP)
    verdict = verify_bytes(bundle)
    assert verdict.ok, verdict
    assert verdict.checked == len(files)
    assert pack(dict(reversed(list(files.items()))), STAMP) == bundle
    assert _members(bundle) == {**files, MANIFEST: _members(bundle)[MANIFEST]}


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(file_sets, st.data())
def test_any_changed_byte_in_any_file_fails_naming_it(
    files: dict[str, bytes], data: st.DataObject
) -> None:
    members = _members(pack(files, STAMP))
    target = data.draw(st.sampled_from(sorted(name for name in members if members[name])))
    content = bytearray(members[target])
    at = data.draw(st.integers(0, len(content) - 1))
    content[at] ^= data.draw(st.integers(1, 255))
    members[target] = bytes(content)
    verdict = verify_bytes(_rezip(members))
    assert not verdict.ok
    assert verdict.failed == target, (verdict, target)


@given(file_sets, st.data())
def test_an_added_or_removed_file_fails_naming_it(
    files: dict[str, bytes], data: st.DataObject
) -> None:
    members = _members(pack(files, STAMP))
    removed = data.draw(st.sampled_from(sorted(files)))
    without = {k: v for k, v in members.items() if k != removed}
    verdict = verify_bytes(_rezip(without))
    assert not verdict.ok and verdict.failed == removed
    extra = {**members, "zz-added.txt": b"planted"}
    verdict = verify_bytes(_rezip(extra))
    assert not verdict.ok and verdict.failed == "zz-added.txt"


@given(file_sets, st.data())
def test_a_changed_byte_anywhere_in_the_archive_fails(
    files: dict[str, bytes], data: st.DataObject
) -> None:
    bundle = bytearray(pack(files, STAMP))
    at = data.draw(st.integers(0, len(bundle) - 1))
    bundle[at] ^= data.draw(st.integers(1, 255))
    verdict = verify_bytes(bytes(bundle))
    # Even a flip in a header field no reader needs fails: a bundle must be exactly
    # what ``pack`` makes of its files.
    assert not verdict.ok and verdict.failed


def test_bad_paths_are_refused() -> None:
    for bad in ["../x", "/abs", "a\nb", MANIFEST, " x"]:
        with pytest.raises(ValueError, match="not a bundle path"):
            pack({bad: b"1"}, STAMP)


def test_the_command_line_exits_0_then_names_the_changed_file(tmp_path: Path) -> None:
    files = {"payloads/01-bluesky.json": b'{"text": "hi"}', "transcript.html": b"<p>hi</p>"}
    good = tmp_path / "good.zip"
    good.write_bytes(pack(files, STAMP))
    command = [sys.executable, "-m", "beatdesk.cli", "evidence", "verify"]
    ok = subprocess.run([*command, str(good)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "OK: all 2 files" in ok.stdout
    assert hashlib.sha256(good.read_bytes()).hexdigest() in ok.stdout

    members = _members(good.read_bytes())
    members["transcript.html"] = b"<p>hI</p>"
    bad = tmp_path / "bad.zip"
    bad.write_bytes(_rezip(members))
    failed = subprocess.run([*command, str(bad)], capture_output=True, text=True, check=False)
    assert failed.returncode == 1
    assert "FAILED: transcript.html" in failed.stderr
    missing = subprocess.run(
        [*command, str(tmp_path / "nope.zip")], capture_output=True, text=True, check=False
    )
    assert missing.returncode == 2


def test_changes_around_the_files_fail_too() -> None:
    bundle = pack({"payloads/01-x.json": b"{}", "transcript.html": b"<p>x</p>"}, STAMP)
    assert verify_bytes(bundle).ok
    commented = io.BytesIO(bundle)
    with zipfile.ZipFile(commented, "a") as archive:
        archive.comment = b"hello"
    for changed in (b"#!/bin/sh\nrm -rf ~\n" + bundle, bundle + b"extra", commented.getvalue()):
        verdict = verify_bytes(changed)
        assert not verdict.ok and verdict.failed == "(archive)", verdict
    # A bundle of nothing but a (valid, empty) manifest proves nothing.
    assert verify_bytes(pack({}, STAMP)).failed == MANIFEST
    # Paths that would escape a folder when unpacked are refused by name.
    members = {"../../.bashrc": b"x"}
    body = f"{hashlib.sha256(b'x').hexdigest()}  ../../.bashrc\n".encode()
    members[MANIFEST] = body + f"# manifest-sha256 {hashlib.sha256(body).hexdigest()}\n".encode()
    verdict = verify_bytes(_rezip(members))
    assert not verdict.ok and verdict.failed == "../../.bashrc"
