"""Pronunciations for hot words the dictionary lacks (party and company names such as
Alibaba or Haidian), from Debian's espeak-ng, mapped to the CMU phone set.

espeak-ng prints its phoneme mnemonics (`-x --sep=_`); each maps to one or two ARPAbet
phones. A word with a mnemonic outside the table gets no pronunciation rather than a
wrong one.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess

ESPEAK_TO_CMU: dict[str, str] = {
    # consonants
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "g": "G", "f": "F", "v": "V",
    "T": "TH", "D": "DH", "s": "S", "z": "Z", "S": "SH", "Z": "ZH", "h": "HH", "m": "M",
    "n": "N", "N": "NG", "l": "L", "r": "R", "w": "W", "j": "Y", "tS": "CH", "dZ": "JH",
    "t#": "T", "d#": "D", "n-": "N", "l-": "L", "m-": "M", "x": "HH", "C": "HH",
    # vowels and diphthongs
    "a": "AE", "a#": "AH", "aa": "AE", "A:": "AA", "A": "AA", "0": "AA", "E": "EH",
    "e": "EH", "eI": "EY", "I": "IH", "I2": "IH", "I#": "IH", "i": "IY", "i:": "IY",
    "O": "AO", "O:": "AO", "oU": "OW", "o": "OW", "U": "UH", "u:": "UW", "u": "UW",
    "V": "AH", "@": "AH", "@2": "AH", "@5": "AH", "3": "ER", "3:": "ER", "@L": "AH L",
    "aI": "AY", "aU": "AW", "OI": "OY", "i@": "IY AH", "A@": "AA R", "O@": "AO R",
    "o@": "AO R", "U@": "UH R", "e@": "EH R", "I@": "IH R", "aI@": "AY ER", "aU@": "AW ER",
    "i@3": "IY ER", "A@r": "AA R", "@r": "ER",
}


def available() -> bool:
    return shutil.which("espeak-ng") is not None


@functools.lru_cache(maxsize=4096)
def cmu_phones(word: str) -> str | None:
    """Space-separated CMU phones for one word, or None."""
    if not re.fullmatch(r"[a-z']{1,40}", word) or not available():
        return None
    try:
        out = subprocess.run(["espeak-ng", "-q", "-x", "--sep=_", "-v", "en-us", word],
                             capture_output=True, text=True, timeout=10, check=True).stdout
    except (subprocess.SubprocessError, OSError):
        return None
    phones: list[str] = []
    for token in out.strip().replace(" ", "_").split("_"):
        token = token.strip("',%=")
        if not token:
            continue
        mapped = ESPEAK_TO_CMU.get(token)
        if mapped is None:
            return None
        phones.extend(mapped.split())
    return " ".join(phones) or None
