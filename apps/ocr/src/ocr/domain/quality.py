"""Character and word error rates, with the normalisation stated once."""

from __future__ import annotations

import re
import unicodedata

_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")


def normalise(text: str) -> str:
    """NFKC (full-width punctuation to its ASCII form), one space between words,
    none next to a CJK character, where a space carries no meaning."""
    text = unicodedata.normalize("NFKC", text)
    text = " ".join(text.split())
    return _SPACE_NEAR_CJK.sub("", text)


def edit_distance(a: list[str] | str, b: list[str] | str) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate over the normalised texts, line breaks ignored."""
    ref = normalise(reference.replace("\n", " "))
    hyp = normalise(hypothesis.replace("\n", " "))
    return edit_distance(ref, hyp) / max(1, len(ref))


def wer(reference: str, hypothesis: str) -> float:
    ref = normalise(reference).lower().split()
    hyp = normalise(hypothesis).lower().split()
    return edit_distance(ref, hyp) / max(1, len(ref))
