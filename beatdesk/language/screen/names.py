"""Person-name finder: a tokenizer and a binary averaged-perceptron token tagger.

Contract: ``find_person_names(text)`` returns non-overlapping :class:`NameSpan` objects in
text order, each covering one run of name tokens (for example ``"Sarah Jenkins"``), with
character offsets into ``text``. It never raises on any string. Social-media handles
(``@someone``) are returned with ``is_handle=True`` so callers can treat accounts
differently from names.

The model is linear and *decomposable*: every feature depends either on one token alone
(its own, or as a neighbour of the token being scored) or on the previous decision. That
lets the runtime cache one small tuple of partial scores per distinct token string, so
tagging costs a handful of dictionary look-ups per token. Besides sparse features (word,
shape, affixes, name lists) the model is linear in each token's mean word-piece vector
(static vectors distilled from all-MiniLM-L6-v2); the artefact stores, per word piece,
only the dot products with the learned weight vectors, so no vectors and no numpy are
needed at run time. Decoding is an exact two-state (name / not a name) Viterbi. The
training script (``training/train_names.py``) imports the feature functions from here,
so training and runtime cannot drift apart.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Final

ARTEFACT_PATH: Final = Path(__file__).with_name("artefacts") / "names_model.json.gz"

# URLs and handles first so they stay whole; possessive 's is split off so a name span
# ends at the name ("Sarah's" -> "Sarah" + "'s").
TOKEN_RE: Final = re.compile(
    r"https?://\S+|www\.\S+|[@#]\w+|\w+(?:['\u2019](?![sS]\b)\w+)*|['\u2019][sS]\b|\S"
)

# Raw score given to capitalised words after a title ("PC Sarah Hughes"): surely a name.
TITLED_NAME_SCORE: Final = 10.0

BOS: Final = "<s>"
EOS: Final = "</s>"

# Titles that make the following capitalised token(s) a person's name in police posts.
TITLES: Final = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "sir",
        "dame",
        "lord",
        "lady",
        "prof",
        "professor",
        "rev",
        "reverend",
        "pc",
        "pcso",
        "dc",
        "ds",
        "di",
        "dci",
        "dsi",
        "dcs",
        "sgt",
        "sergeant",
        "insp",
        "inspector",
        "ch",
        "supt",
        "superintendent",
        "constable",
        "cc",
        "acc",
        "dcc",
        "dac",
        "commander",
        "commissioner",
        "officer",
        "detective",
        "chief",
        "cllr",
        "councillor",
        "pcc",
        "pcs",
        "pd",
        "superintendents",
        "inspectors",
        "sergeants",
        "officers",
    ]
)

# Reply openers: "Hi Alan" addresses the account holder; the greeting is not part of the name.
GREETINGS: Final = frozenset(
    [
        "hi",
        "hello",
        "hey",
        "dear",
        "thanks",
        "thank",
        "cheers",
        "morning",
        "afternoon",
        "evening",
        "congratulations",
        "congrats",
        "welcome",
        "goodbye",
        "bye",
    ]
)

_WORD_RE: Final = re.compile(r"[^\W\d_]", re.UNICODE)


def word_shape(token: str) -> str:
    """Collapsed character-class shape: ``Sarah`` -> ``Xx``, ``KM19`` -> ``Xd``."""
    out: list[str] = []
    for ch in token:
        if ch.isupper():
            cls = "X"
        elif ch.islower():
            cls = "x"
        elif ch.isdigit():
            cls = "d"
        else:
            cls = ch if ch in "@#'\u2019-._" else "o"
        if not out or out[-1] != cls:
            out.append(cls)
    return "".join(out[:6])


@dataclass(frozen=True)
class Gazetteer:
    """Lower-cased first names, surnames and names seen tagged in training (features only)."""

    first: frozenset[str]
    last: frozenset[str]
    seen: frozenset[str] = frozenset()


def _handle_parts(token: str) -> list[str]:
    """Split a handle body into lower-case alphabetic pieces (``david_myers77`` -> 2)."""
    body = token[1:]
    pieces = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", body)
    return [p.lower() for p in pieces if len(p) > 1]


def self_features(token: str, gaz: Gazetteer) -> list[str]:
    """Features of the token being scored that depend on the token alone."""
    low = token.lower()
    shape = word_shape(token)
    feats = [
        "b",
        "w=" + low,
        "s=" + shape,
        "p3=" + low[:3],
        "x2=" + low[-2:],
        "x3=" + low[-3:],
        "len=" + str(min(len(token), 10)),
    ]
    is_alpha = bool(_WORD_RE.match(token))
    if is_alpha and len(low) > 3:
        # character 3-grams: name-like spellings ("-ski", "-son", "mc-") generalise to
        # names never seen in training
        marked = "<" + low + ">"
        feats.extend("c3=" + marked[k : k + 3] for k in range(len(marked) - 2))
    if token[:1] == "@":
        feats.append("handle")
        parts = _handle_parts(token)
        if any(p in gaz.first for p in parts):
            feats.append("handle_first")
        if any(p in gaz.last for p in parts):
            feats.append("handle_last")
        if token[1:2].isupper():
            feats.append("handle_cap")
    elif token[:1] == "#":
        feats.append("hashtag")
    elif is_alpha:
        title = token[:1].isupper() and token[1:].islower()
        if low in gaz.first:
            feats.append("gf")
            feats.append("gf_s=" + shape)
        if low in gaz.last:
            feats.append("gl")
            feats.append("gl_s=" + shape)
        if low in gaz.seen:
            feats.append("gs")
            feats.append("gs_s=" + shape)
        if title:
            feats.append("title")
        if low in TITLES:
            feats.append("is_title_word")
    return feats


def neighbour_features(token: str, gaz: Gazetteer, rel: str, shape: str = "") -> list[str]:
    """Features contributed by ``token`` when it sits at offset ``rel`` (p1, p2, n1, n2).

    ``shape``: ``word_shape(token)`` when the caller already has it.
    """
    low = token.lower()
    feats = [rel + "w=" + low, rel + "s=" + (shape or word_shape(token))]
    if rel in ("p1", "n1"):
        if low in gaz.first:
            feats.append(rel + "gf")
        if low in gaz.last:
            feats.append(rel + "gl")
        if low in TITLES:
            feats.append(rel + "title_word")
        if token[:1] == "@":
            feats.append(rel + "handle")
    return feats


RELATIONS: Final = ("p1", "p2", "n1", "n2")

# Word-piece embedding features. Each token is represented by the mean of its word pieces'
# (unit-length) static vectors; the model is linear in that mean, so the artefact stores,
# for every word piece, its dot product with each learned weight vector ("channel") and the
# runtime averages those scalars. Self channels are chosen by the token's case class
# (a capitalised "Bath" and a lower-case "bath" get different weights); neighbour channels
# describe the token as the left/right neighbour of the token being scored.
CASE_CLASSES: Final = 5  # 0 Title/McName, 1 lower, 2 UPPER, 3 @handle, 4 other
SELF_CHANNELS: Final = tuple(f"e_self{c}" for c in range(CASE_CLASSES))
NEIGHBOUR_CHANNELS: Final = tuple("e_" + rel for rel in RELATIONS)
_PIECE_WORD_RE: Final = re.compile(r"[^\W\d_]+|\d+")
_MAX_PIECE_WORD: Final = 40


def case_class(token: str) -> int:
    """Which self-embedding channel scores ``token`` (see ``CASE_CLASSES``)."""
    first = token[:1]
    if first == "@":
        return 3
    letters = token.replace("-", "").replace("'", "").replace("\u2019", "")
    if not letters.isalpha():
        return 4
    if first.isupper():
        if any(c.islower() for c in letters[1:]):
            return 0
        return 2 if len(letters) > 1 else 4
    return 1 if letters.islower() else 4


def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def embedding_words(token: str) -> list[str]:
    """Lower-case words whose word pieces represent ``token`` (none for links)."""
    if token[:1] == "@":
        return _handle_parts(token)
    if token.startswith(("http://", "https://", "www.")):
        return []
    low = token.lower()
    if not low.isascii():
        low = _strip_accents(low)
    return _PIECE_WORD_RE.findall(low)


def word_pieces(word: str, index: dict[str, int]) -> list[int]:
    """Greedy longest-match-first WordPiece ids of one lower-case word (empty if none)."""
    if len(word) > _MAX_PIECE_WORD:
        return []
    ids: list[int] = []
    start = 0
    while start < len(word):
        end = len(word)
        found = -1
        while start < end:
            found = index.get(word[start:end] if start == 0 else "##" + word[start:end], -1)
            if found >= 0:
                break
            end -= 1
        if found < 0:
            return []
        ids.append(found)
        start = end
    return ids


def token_pieces(token: str, index: dict[str, int]) -> list[int]:
    """Word-piece ids representing ``token`` (its words' pieces, in order)."""
    ids: list[int] = []
    for word in embedding_words(token):
        ids.extend(word_pieces(word, index))
    return ids


def token_flags(token: str, gaz: Gazetteer) -> tuple[bool, bool, bool]:
    """(title-case, all lower-case letters, known first name) for the text-level features."""
    title = token[:1].isupper() and token[1:].islower()
    lower = token.isalpha() and token.islower()
    return title, lower, token.lower() in gaz.first


def case_bucket(tokens: list[str]) -> int:
    """How capitalised the whole text is: 0 mostly lower case, 1 normal, 2 Title Case Everywhere.

    Why: in a tweet written in Title Case a capital says little about names, and in an
    all-lower-case tweet names lose their capitals too.
    """
    words = [t for t in tokens if t[:1].isalpha()]
    if not words:
        return 1
    caps = sum(1 for t in words if t[:1].isupper()) / len(words)
    return 0 if caps < 0.15 else 1 if caps < 0.5 else 2


def dynamic_features(
    prev_is_name: bool, token: str, position: int, bucket: int, gaz: Gazetteer
) -> list[str]:
    """Features that depend on the previous decision, the position or the whole text."""
    title, lower, first = token_flags(token, gaz)
    feats: list[str] = []
    if prev_is_name:
        feats.append("prevN")
        feats.append("prevN&title" if title else "prevN&other")
    if position == 0 and title:
        feats.append("bos&title")
    b = str(bucket)
    if title:
        feats.append("cb" + b + "&title")
    if lower:
        feats.append("cb" + b + "&lower")
    if first:
        feats.append("cb" + b + "&gf")
    return feats


@dataclass(frozen=True)
class NameSpan:
    """One run of name tokens: ``text[start:end]``.

    ``score`` is the weakest token's raw model score (before the decision threshold), so
    callers can ask for more confidence than the tagger's own cut-off.

    ``title`` is the lower-cased title word just before the name ("pc", "mr") or "";
    ``greeted`` is true when the name follows a greeting ("Hi Alan"); ``known`` is true
    when the first token is a known first name or a name seen in training.
    """

    start: int
    end: int
    score: float
    is_handle: bool
    title: str = ""
    greeted: bool = False
    known: bool = False


def viterbi_margins(base: list[float], bonus: list[float]) -> list[float]:
    """Max-marginal margins of a two-state chain (name / not a name).

    ``base[i]``: score of token ``i`` being a name after a non-name (not-a-name scores 0);
    ``bonus[i]``: added when token ``i - 1`` is a name too. Returns, per token, the best
    total score with it a name minus the best with it not a name.
    """
    n = len(base)
    if not n:
        return []
    # forward: best score of tokens 0..i ending with i a name (fn) / not a name (fo)
    fn = [0.0] * n
    fo = [0.0] * n
    fn[0] = base[0]
    for i in range(1, n):
        a, b = fo[i - 1], fn[i - 1]
        fo[i] = a if a > b else b
        c = b + bonus[i]
        fn[i] = base[i] + (a if a > c else c)
    # backward: best score of tokens i+1..n-1 given token i is a name (bn) / not (bo)
    bn = [0.0] * n
    bo = [0.0] * n
    for i in range(n - 2, -1, -1):
        nxt = base[i + 1] + bn[i + 1]
        o = bo[i + 1]
        bo[i] = o if o > nxt else nxt
        c = nxt + bonus[i + 1]
        bn[i] = o if o > c else c
    return [fn[i] + bn[i] - fo[i] - bo[i] for i in range(n)]


class NameTagger:
    """Scores tokens with cached partial sums; see the module docstring."""

    def __init__(
        self,
        weights: dict[str, float],
        gaz: Gazetteer,
        threshold: float,
        pieces: dict[str, int] | None = None,
        piece_scores: list[tuple[float, ...]] | None = None,
        channels: tuple[str, ...] = (),
    ) -> None:
        self.weights = weights
        self.gaz = gaz
        self.threshold = threshold
        # word piece -> row of ``piece_scores``: one scalar per embedding channel
        self.pieces = pieces or {}
        self.piece_scores = piece_scores or []
        # channel index -> (target slot in the partials: 0 self, 1-4 RELATIONS; case class)
        self._slots = [
            (0, SELF_CHANNELS.index(ch))
            if ch in SELF_CHANNELS
            else (1 + NEIGHBOUR_CHANNELS.index(ch), -1)
            for ch in channels
        ]
        # token -> (self, as p1, as p2, as n1, as n2, is title-case, text-level score by bucket)
        self._cache: dict[
            str, tuple[float, float, float, float, float, bool, tuple[float, float, float]]
        ] = {}
        get = weights.get
        # dynamic_features() unrolled: these four weights are all it can produce
        self._prev_title = get("prevN", 0.0) + get("prevN&title", 0.0)
        self._prev_other = get("prevN", 0.0) + get("prevN&other", 0.0)
        self._bos_title = get("bos&title", 0.0)

    def _partials(
        self, token: str
    ) -> tuple[float, float, float, float, float, bool, tuple[float, float, float]]:
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        w = self.weights
        gaz = self.gaz
        own = sum(w.get(f, 0.0) for f in self_features(token, gaz))
        shape = word_shape(token)
        rest = [
            sum(w.get(f, 0.0) for f in neighbour_features(token, gaz, rel, shape))
            for rel in RELATIONS
        ]
        if self._slots:
            ids = token_pieces(token, self.pieces)
            if ids:
                table = self.piece_scores
                cls = case_class(token)
                inv = 1.0 / len(ids)
                for k, (slot, want) in enumerate(self._slots):
                    if want >= 0 and want != cls:
                        continue
                    add = sum(table[i][k] for i in ids) * inv
                    if slot == 0:
                        own += add
                    else:
                        rest[slot - 1] += add
        title, lower, first = token_flags(token, gaz)
        by_bucket = tuple(
            (w.get(f"cb{b}&title", 0.0) if title else 0.0)
            + (w.get(f"cb{b}&lower", 0.0) if lower else 0.0)
            + (w.get(f"cb{b}&gf", 0.0) if first else 0.0)
            for b in range(3)
        )
        value = (
            own,
            rest[0],
            rest[1],
            rest[2],
            rest[3],
            title,
            (by_bucket[0], by_bucket[1], by_bucket[2]),
        )
        if len(self._cache) > 200_000:  # bound memory on long-running workers
            self._cache.clear()
        self._cache[token] = value
        return value

    def local_scores(self, tokens: list[str]) -> tuple[list[float], list[float]]:
        """Per token: the score of 'name' with the previous token not a name (threshold
        already subtracted), and the bonus added when the previous token is a name.

        Equivalent to summing the weights of ``self_features``, ``neighbour_features``
        for the four neighbours and ``dynamic_features`` (the training-time definition).
        """
        n = len(tokens)
        partials = self._partials
        parts = [partials(t) for t in tokens]
        bos = partials(BOS)
        eos = partials(EOS)
        padded = [bos, bos, *parts, eos, eos]
        threshold = self.threshold
        bucket = case_bucket(tokens)
        prev_title, prev_other = self._prev_title, self._prev_other
        base: list[float] = []
        bonus: list[float] = []
        for i in range(n):
            k = i + 2
            p = padded[k]
            score = p[0] + padded[k - 1][1] + padded[k - 2][2] + padded[k + 1][3] + padded[k + 2][4]
            score += p[6][bucket]
            if i == 0 and p[5]:
                score += self._bos_title
            base.append(score - threshold)
            bonus.append(prev_title if p[5] else prev_other)
        return base, bonus

    def tag(self, tokens: list[str]) -> list[float]:
        """Return one margin per token; positive means 'name' (threshold already applied).

        Exact two-state (name / not a name) Viterbi decoding: a token's margin is the best
        whole-text score with it tagged a name minus the best with it not, so the tokens
        with a positive margin are the best-scoring tagging, and a strong surname can pull
        in the first name before it.
        """
        if not tokens:
            return []
        base, bonus = self.local_scores(tokens)
        return viterbi_margins(base, bonus)


_lock = threading.Lock()
_tagger: NameTagger | None = None


def load_tagger(path: Path = ARTEFACT_PATH) -> NameTagger:
    """Load (once per process) the trained weights and gazetteer from ``path``."""
    global _tagger
    if _tagger is not None and path == ARTEFACT_PATH:
        return _tagger
    with _lock:
        if _tagger is not None and path == ARTEFACT_PATH:
            return _tagger
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
        emb = data.get("embedding") or {}
        pieces = {str(p): i for i, p in enumerate(data.get("pieces", ()))}
        scale = float(emb.get("scale", 1.0))
        tagger = NameTagger(
            weights={str(k): float(v) for k, v in data["weights"].items()},
            gaz=Gazetteer(
                first=frozenset(data["first_names"]),
                last=frozenset(data["surnames"]),
                seen=frozenset(data.get("seen_names", ())),
            ),
            threshold=float(data["threshold"]),
            pieces=pieces,
            piece_scores=[tuple(v * scale for v in row) for row in emb.get("scores", ())],
            channels=tuple(emb.get("channels", ())),
        )
        if path == ARTEFACT_PATH:
            _tagger = tagger
        return tagger


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Split ``text`` into ``(token, start, end)`` triples."""
    return [(m.group(), *m.span()) for m in TOKEN_RE.finditer(text)]


def _is_capitalised_word(token: str) -> bool:
    return token[:1].isupper() and token.replace("-", "").replace("'", "").isalpha()


def find_person_names(
    text: str, tokens: list[tuple[str, int, int]] | None = None, tagger: NameTagger | None = None
) -> list[NameSpan]:
    """Find person names (and handles the model thinks are people) in ``text``.

    The statistical tagger is combined with one deterministic convention of police posts:
    a title word ("PC", "Mr", "Insp") followed by capitalised words is a name.
    """
    model = tagger or load_tagger()
    toks = tokens if tokens is not None else tokenize(text)
    if not toks:
        return []
    words = [t[0] for t in toks]
    margins = model.tag(words)
    is_name = [m > 0 for m in margins]
    for i, word in enumerate(words):
        if word.lower().rstrip(".") in TITLES and i + 1 < len(words):
            j = i + 1
            if j < len(words) and words[j] == ".":
                j += 1
            while j < len(words) and _is_capitalised_word(words[j]) and j - i <= 3:
                if words[j].lower() in TITLES:
                    break
                is_name[j] = True
                margins[j] = max(margins[j], TITLED_NAME_SCORE - model.threshold)
                j += 1
        if is_name[i] and not (word[:1].isalpha() or word[:1] == "@"):
            is_name[i] = False  # punctuation and numbers are never names
    gaz = model.gaz

    def keep_at_edge(word: str) -> bool:
        low = word.lower()
        if low in TITLES or low in GREETINGS:
            return False
        return not word.islower() or low in gaz.first or low in gaz.last or low in gaz.seen

    for k, word in enumerate(words):
        # a lower-case word that is no known name never belongs in a name ("Benghazi
        # suspect Ahmed Abu"), wherever it sits in a run
        if is_name[k] and word[:1] != "@" and not keep_at_edge(word):
            is_name[k] = False
    spans: list[NameSpan] = []
    i = 0
    n = len(words)
    while i < n:
        if not is_name[i]:
            i += 1
            continue
        if words[i][:1] == "@":
            spans.append(NameSpan(toks[i][1], toks[i][2], margins[i], True))
            i += 1
            continue
        j = i
        while j + 1 < n and is_name[j + 1] and words[j + 1][:1] != "@":
            # a run only continues across adjacent tokens or a single space/hyphen
            gap = text[toks[j][2] : toks[j + 1][1]]
            if gap not in (" ", "", "-"):
                break
            j += 1
        a, b = i, j
        while a <= b and not keep_at_edge(words[a]):
            a += 1
        while b >= a and not keep_at_edge(words[b]):
            b -= 1
        hyphenated = (
            a <= b
            and toks[a][1] > 1
            and text[toks[a][1] - 1] == "-"
            and text[toks[a][1] - 2].isalnum()
        )
        if a <= b and not hyphenated:  # "Weston-super-Mare": part of a place name
            prev = words[a - 1].lower().rstrip(".") if a > 0 else ""
            if prev == "," and a > 1:  # "Hi, Jonah"
                prev = words[a - 2].lower()
            spans.append(
                NameSpan(
                    toks[a][1],
                    toks[b][2],
                    min(margins[a : b + 1]) + model.threshold,
                    False,
                    title=prev if prev in TITLES else "",
                    greeted=prev in GREETINGS,
                    known=words[a].lower() in gaz.first or words[a].lower() in gaz.seen,
                )
            )
        i = j + 1
    return spans
