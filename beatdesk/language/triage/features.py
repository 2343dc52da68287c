"""Hashed word and character n-gram features shared by training and run time.

Contract: ``featurise(texts)`` returns ``(indices, values, offsets)`` describing a sparse
matrix with one row per text and ``DIMENSIONS`` columns: row ``i`` holds the entries
``indices[offsets[i]:offsets[i + 1]]`` with ``values[offsets[i]:offsets[i + 1]]``.
The same function builds the training matrix (``training/train.py``) and scores messages
at run time, so the two can never drift apart. Hashing is CRC-32 (stable across processes
and platforms, unlike ``hash()``), with a different CRC seed per feature family so a word
and a character trigram with the same spelling land in different buckets.

Normalisation removes what identifies a source rather than a meaning: URLs become ``url``,
handles become ``@user`` (so "@united" and "@MetPoliceUK" look alike), digits become ``0``.
"""

from __future__ import annotations

import html
import itertools
import re
import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

HASH_BITS = 18
DIMENSIONS = 1 << HASH_BITS
_MASK = DIMENSIONS - 1

_WORD_SEED = 1
_BIGRAM_SEED = 2
# Character n-grams of these lengths, each with its own seed (3 + n).
_CHAR_LENGTHS = (3, 4, 5)

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_DIGITS = re.compile(r"\d")
_SPACE = re.compile(r"\s+")
_TOKEN = re.compile(r"[a-z0-9@#']+|[!?£$]")
# Long runs of one letter or mark ("helppppp", "!!!!!") carry emphasis, not new words.
# Digit runs are kept: after masking, their length (phone numbers, short codes) is the signal.
_REPEAT = re.compile(r"([^0-9])\1{2,}")


def normalise(text: str) -> str:
    """Lower-case ``text`` and mask URLs, handles, digits and character runs."""
    text = html.unescape(text).lower()
    text = _URL.sub(" url ", text)
    text = _HANDLE.sub(" @user ", text)
    text = _DIGITS.sub("0", text)
    text = _REPEAT.sub(r"\1\1", text)
    text = text.replace("\u2019", "'")
    return _SPACE.sub(" ", text).strip()


def tokens(normalised: str) -> list[str]:
    """Word tokens of an already normalised text (``?`` and ``!`` are tokens too)."""
    return _TOKEN.findall(normalised)


def _row(text: str) -> tuple[list[int], list[float]]:
    norm = normalise(text)
    words = tokens(norm)
    crc = zlib.crc32
    word_idx = [crc(w.encode(), _WORD_SEED) & _MASK for w in words]
    word_idx.extend(
        crc(f"{a} {b}".encode(), _BIGRAM_SEED) & _MASK for a, b in itertools.pairwise(words)
    )
    data = f" {norm} ".encode()
    char_idx: list[int] = []
    for n in _CHAR_LENGTHS:
        seed = 3 + n
        char_idx.extend(crc(data[i : i + n], seed) & _MASK for i in range(len(data) - n + 1))
    # Each family is scaled to unit length on its own so long texts do not drown the
    # word evidence in character n-grams (and vice versa).
    values: list[float] = []
    if word_idx:
        values.extend([len(word_idx) ** -0.5] * len(word_idx))
    if char_idx:
        values.extend([len(char_idx) ** -0.5] * len(char_idx))
    return word_idx + char_idx, values


def featurise(
    texts: Sequence[str],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """Return the sparse feature rows of ``texts`` as ``(indices, values, offsets)``.

    ``offsets`` has ``len(texts) + 1`` entries; duplicate indices within a row are kept
    (they add up, as in a count vector).
    """
    all_idx: list[int] = []
    all_val: list[float] = []
    offsets = [0]
    for text in texts:
        idx, val = _row(text)
        all_idx.extend(idx)
        all_val.extend(val)
        offsets.append(len(all_idx))
    return (
        np.asarray(all_idx, dtype=np.int64),
        np.asarray(all_val, dtype=np.float32),
        np.asarray(offsets, dtype=np.int64),
    )
