"""Mean-pooled static word-piece embeddings (pure Python + numpy), shared by training and run time.

Contract: ``embed(texts)`` returns a float32 array of shape ``(len(texts), dims)``: for each
text the mean of the vectors of its word pieces, scaled to unit length (all zeros when
the text has no known word piece). The vectors (``artefacts/embeddings.npz``: a
``vocab`` array of word pieces and a float16 ``vectors`` matrix) were distilled offline
with Model2vec from the all-MiniLM-L6-v2 sentence transformer by ``training/distil.py``;
see ``artefacts/ATTRIBUTION.md``.

Tokenisation follows the uncased BERT recipe that the vocabulary was built for, in
simplified form: lower-case, strip accents, split into runs of letters and digits and
single punctuation marks, then greedy longest-match-first WordPiece (continuations are
spelt ``##piece``); a word with no complete segmentation is dropped, as Model2vec drops
``[UNK]``. URLs and handles are removed first: they identify a source, not a meaning.
Tokenisation of each distinct word is cached, so run time is dominated by dictionary
look-ups.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

EMBEDDINGS = Path(__file__).resolve().parent / "artefacts" / "embeddings.npz"

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_WORD = re.compile(r"[^\W_]+|[^\w\s]|_")
_MAX_WORD = 100
_CACHE_LIMIT = 200_000


@dataclass
class _Table:
    vectors: npt.NDArray[np.float32]  # (vocabulary, dims); the last row is all zeros
    index: dict[str, int]
    cache: dict[str, tuple[int, ...]]


@cache
def _table() -> _Table:
    with np.load(EMBEDDINGS) as data:
        vocab = [str(v) for v in data["vocab"]]
        vectors = data["vectors"].astype(np.float32)
    padded = np.vstack([vectors, np.zeros((1, vectors.shape[1]), dtype=np.float32)])
    return _Table(padded, {piece: i for i, piece in enumerate(vocab)}, {})


def dimensions() -> int:
    """Width of the embedding (read from the artefact)."""
    return int(_table().vectors.shape[1])


def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def _pieces(word: str, index: dict[str, int]) -> tuple[int, ...]:
    """Greedy longest-match-first WordPiece ids of one lower-cased word (empty if none)."""
    if not word.isascii():
        word = _strip_accents(word)
        if not word:
            return ()
    if len(word) > _MAX_WORD:
        return ()
    ids: list[int] = []
    start = 0
    while start < len(word):
        end = len(word)
        found = -1
        while start < end:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            found = index.get(piece, -1)
            if found >= 0:
                break
            end -= 1
        if found < 0:
            return ()
        ids.append(found)
        start = end
    return tuple(ids)


def piece_ids(text: str) -> list[int]:
    """Word-piece ids of ``text`` (unknown words dropped)."""
    table = _table()
    cache_, index = table.cache, table.index
    text = _HANDLE.sub(" ", _URL.sub(" ", html.unescape(text).lower()))
    ids: list[int] = []
    for word in _WORD.findall(text):
        got = cache_.get(word)
        if got is None:
            if len(cache_) > _CACHE_LIMIT:
                cache_.clear()
            got = cache_[word] = _pieces(word, index)
        ids.extend(got)
    return ids


def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Unit-length mean word-piece vectors, shape ``(len(texts), dimensions())``."""
    table = _table()
    blank = len(table.vectors) - 1
    all_ids: list[int] = []
    offsets = [0]
    for text in texts:
        ids = piece_ids(text)
        all_ids.extend(ids if ids else (blank,))
        offsets.append(len(all_ids))
    rows = table.vectors[np.asarray(all_ids, dtype=np.int64)]
    starts = np.asarray(offsets[:-1], dtype=np.int64)
    sums = np.add.reduceat(rows, starts, axis=0) if len(texts) else rows[:0]
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    unit: npt.NDArray[np.float32] = (sums / np.maximum(norms, 1e-9)).astype(np.float32)
    return unit
