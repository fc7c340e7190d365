"""The court-domain language model: a trigram model of the court's own texts.

Built from `asr.court_text` (English renderings of the litigation app's templates, filings
and hearing procedure) with the seed `LM_SEED`, by `pocketsphinx.lm.ArpaBoLM`: the ARPA
builder that ships in the pinned pocketsphinx 5.1.1 wheel (CMU; Katz-style back-off with
a fixed discount mass), then converted to pocketsphinx's binary format by the wheel's own
`NGramModel`. No other tool is needed: kenlm's `lmplz` needs a compiled binary that no
registry package here provides, and nltk.lm estimates but does not write ARPA.

The built model is committed at `asr/models/court-en-us.lm.bin` (a small generated file)
so the service starts without building anything and the image needs no build step;
`python -m asr.court_lm` rebuilds it and `--check` tells whether the committed file is
what the current texts give (a test runs the check).

Seeds: the model is built from `LM_SEED`; hot-word and model choices were tuned on clips
of `TUNING_SEED` sentences; accuracy is reported on `HELD_OUT_SEED` sentences, with
voices the tuning never used. Clips never use a sentence of the training text.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import tempfile
from pathlib import Path

from . import court_text

LM_SEED = 1201
LM_SENTENCES = 40000
DISCOUNT_MASS = 0.5
TUNING_SEED = 2202
HELD_OUT_SEED = 3303

PACKAGED = Path(__file__).resolve().parent / "models" / "court-en-us.lm.bin"


def training_text() -> list[str]:
    """The sentences the model is estimated from (duplicates kept: they are counts)."""
    return court_text.sentences(LM_SEED, LM_SENTENCES)


def arpa(sentences: list[str], discount_mass: float = DISCOUNT_MASS) -> str:
    from pocketsphinx.lm import ArpaBoLM

    lm = ArpaBoLM(text="\n".join(sentences), add_start=True, discount_mass=discount_mass)
    lm.compute()
    out = io.StringIO()
    lm.write(out)
    return out.getvalue()


def build(path: Path, sentences: list[str] | None = None,
          discount_mass: float = DISCOUNT_MASS) -> Path:
    """Estimate the model and write it in pocketsphinx's binary format (or ARPA text when
    `path` ends in .arpa)."""
    from pocketsphinx import NGramModel

    text = arpa(training_text() if sentences is None else sentences, discount_mass)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".arpa":
        path.write_text(text, encoding="utf-8")
        return path
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "court.arpa"
        source.write_text(text, encoding="utf-8")
        NGramModel.readfile(str(source)).write(str(path))
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
