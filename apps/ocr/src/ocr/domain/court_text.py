# ruff: noqa: RUF001, RUF002 - full-width punctuation and look-alikes are the point
"""Court-text conventions the recogniser does not know, applied to each line it reads.

Two confusions matter in court documents, where dates and clause punctuation carry meaning:
- the Chinese zero 〇 (U+3007) of written dates (二〇二六年) comes back as a shape that looks
  like it: ○ (U+25CB), ◯, Ｏ, Latin O or o, Cyrillic О, the digit 0. Inside a run of Chinese
  numerals none of those can be meant, so there they become 〇;
- half-width ; : , ? ! ( ) between Chinese characters, where Chinese text always uses the
  full-width forms (；：，？！（）), become full-width. Between Latin letters and digits (an
  English sentence, a time 10:30) they are left alone.
"""

from __future__ import annotations

import re

ZERO = "〇"
NUMERALS = "〇零一二三四五六七八九十百千万"
ZERO_LOOKALIKES = "○◯⭕Ｏ０OoОоΟο0"
_RUN = re.compile(f"[{NUMERALS}{ZERO_LOOKALIKES}]{{2,}}")

FULL_WIDTH = {";": "；", ":": "：", ",": "，", "?": "？", "!": "！", "(": "（", ")": "）"}
_HALF = re.compile(r"[;:,?!()]")


def _cjk(ch: str) -> bool:
    """A Han character or full-width punctuation (what Chinese text is made of)."""
    o = ord(ch)
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x3000 <= o <= 0x303F
            or (0xFF01 <= o <= 0xFF5E and not 0xFF10 <= o <= 0xFF19))


def _zeros(m: re.Match[str]) -> str:
    run = m.group(0)
    real = sum(ch in NUMERALS for ch in run)
    # a run of look-alikes alone ("OO", "00") is not a numeral; one real numeral beside
    # them makes the run one
    if real == 0:
        return run
    return "".join(ZERO if ch in ZERO_LOOKALIKES else ch for ch in run)


def _punct(text: str) -> str:
    out = list(text)
    for m in _HALF.finditer(text):
        i = m.start()
        before = text[i - 1] if i else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        opening = m.group(0) == "("
        # a closing mark follows Chinese; an opening one precedes it
        if (not opening and before and _cjk(before) and (not after or not after.isascii()
                                                          or after == " ")) or (
                opening and after and _cjk(after)):
            out[i] = FULL_WIDTH[m.group(0)]
    return "".join(out)


def normalise(text: str) -> str:
    """One recognised line, with the court's zero and full-width punctuation restored."""
    return _punct(_RUN.sub(_zeros, text))
