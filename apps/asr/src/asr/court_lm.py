"""The court-domain language model: a trigram model of the court's own texts.

Built from `asr.court_text` (English renderings of the litigation app's templates, filings
and hearing procedure) with the seed `LM_SEED`, by an interpolated Witten-Bell estimate
(`asr.domain.arpa.Arpa.estimate`), and written as an ARPA file that pocketsphinx reads.

Why this estimator: the pinned pocketsphinx 5.1.1 wheel has an ARPA builder
(`pocketsphinx.lm.ArpaBoLM`), but its fixed discount mass leaves the distributions
unnormalised (its unigrams sum to about 0.47 on this text), which would also spoil the
renormalised hot-word boost; kenlm's `lmplz` needs a compiled binary that no registry
package here provides, and nltk.lm estimates but does not write ARPA. Witten-Bell needs
no parameter to tune and fits a small, regular text.

The built model is committed at `asr/models/court-en-us.arpa` (a small generated text
file, about 0.5 MB), so the service starts without building anything and the image needs
no build step; `python -m asr.court_lm` rebuilds it and `--check` tells whether the
committed file is what the current texts give (a test runs the check).

Seeds: the model is built from `LM_SEED`; hot-word settings were tuned on clips of
`TUNING_SEED` sentences (flite voices slt, awb, rms); accuracy is reported on
`HELD_OUT_SEED` sentences spoken by voices the tuning never used. No clip uses a sentence
of the training text.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

from . import court_text
from .domain.arpa import Arpa

LM_SEED = 1201
LM_SENTENCES = 40000
TUNING_SEED = 2202
HELD_OUT_SEED = 3303

PACKAGED = Path(__file__).resolve().parent / "models" / "court-en-us.arpa"


def training_text() -> list[str]:
    """The sentences the model is estimated from (duplicates kept: they are counts)."""
    return court_text.sentences(LM_SEED, LM_SENTENCES)


def build(path: Path, sentences: list[str] | None = None) -> Path:
    """Estimate the model from the training text (or the sentences given) and write it."""
    model = Arpa.estimate(training_text() if sentences is None else sentences)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(model.text(), encoding="utf-8")
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build the court-domain language model")
    ap.add_argument("--out", type=Path, default=PACKAGED)
    ap.add_argument("--check", action="store_true",
                    help="rebuild in a temporary place and compare with the committed model")
    args = ap.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = build(Path(tmp) / PACKAGED.name)
            same = PACKAGED.is_file() and digest(fresh) == digest(PACKAGED)
        print("up to date" if same else f"{PACKAGED} differs from a rebuild: run "
              "python -m asr.court_lm")
        return 0 if same else 1
    out = build(args.out)
    print(f"{out}: {out.stat().st_size} bytes, sha256 {digest(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
