"""Speech engines behind one interface.

`PocketSphinxEngine` runs the en-US model that ships inside the pocketsphinx wheel, or
any pocketsphinx model directory mounted at a path. A Chinese engine (Vosk, sherpa-onnx,
FunASR) implements the same `SpeechEngine` protocol and is chosen by `load_engine`.

Hot words: the n-gram search is run first; then a keyword-spotting pass over the same
audio looks for the hot words alone. A spotted hot word replaces the first-pass words it
overlaps in time when they sound alike (phone similarity at least `HOT_SIMILARITY`) and
are not already that word, which repairs splits such as "plane to" for "plaintiff"
without letting a keyword spotter's false alarm overwrite a different word.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from . import pronounce

COURT_LM = Path(__file__).resolve().parents[1] / "models" / "court-en-us.lm.bin"
HOT_SIMILARITY = 0.6
HOT_THRESHOLD = "1e-20"  # keyword-spotting threshold for one hot word


@dataclass
class Word:
    text: str
    start: float  # seconds from the start of the recording
    end: float
    confidence: float  # posterior probability, 0..1
    hot: bool = False  # placed by the hot-word pass


class SpeechEngine(Protocol):
    name: str
    sample_rate: int

    def describe(self) -> dict[str, str]: ...

    def transcribe(self, pcm: np.ndarray, offset: float = 0.0,
                   hot_words: tuple[str, ...] = ()) -> list[Word]: ...

    def normalise_hot_words(self, words: list[str]) -> tuple[tuple[str, ...], list[str]]: ...


class EngineUnavailable(RuntimeError):
    pass


def _packaged_model() -> Path:
    spec = importlib.util.find_spec("pocketsphinx")
    if spec is None or spec.origin is None:
        raise EngineUnavailable("the pocketsphinx package is not installed")
    return Path(spec.origin).parent / "model" / "en-us"


def _phone_similarity(a: list[str], b: list[str]) -> float:
    previous = list(range(len(b) + 1))
    for i, pa in enumerate(a, 1):
        current = [i]
        for j, pb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (pa != pb)))
        previous = current
    return 1.0 - previous[-1] / max(len(a), len(b), 1)


@dataclass
class _Spotter:
    decoder: object
    searches: set[str] = field(default_factory=set)


class PocketSphinxEngine:
    """CMU PocketSphinx. Decoders are not thread-safe: each call takes one from a pool."""

    name = "pocketsphinx"
    sample_rate = 16000

    def __init__(self, model_dir: Path | None = None, language_model: str | None = None
                 ) -> None:
        """`language_model`: "court" (the court-domain model built from the court's texts,
        the default with the wheel's model), "generic" (the model directory's own
        *.lm.bin, the default with a mounted model) or a path to an ARPA/binary model."""
        from pocketsphinx import Decoder

        self._decoder_cls = Decoder
        root = model_dir or _packaged_model()
        hmm = root / "en-us" if (root / "en-us").is_dir() else root / "acoustic-model"
        lm = next((p for p in sorted(root.glob("*.lm.bin")) if "phone" not in p.name), None)
        dic = next(iter(sorted(root.glob("*.dict"))), None)
        if not hmm.is_dir() or lm is None or dic is None:
            raise EngineUnavailable(
                f"{root} is not a pocketsphinx model: it needs an acoustic-model directory "
                "(en-us/ or acoustic-model/), a *.lm.bin language model and a *.dict")
        choice = language_model or ("generic" if model_dir else "court")
        if choice == "court":
            lm = COURT_LM
        elif choice != "generic":
            lm = Path(choice)
        if not lm.is_file():
            raise EngineUnavailable(f"language model {lm} is missing")
        self.language_model = choice if choice in ("court", "generic") else "file"
        self.model_dir, self.hmm, self.lm, self.dict = root, hmm, lm, dic
        self._pool: list[object] = []
        self._spotters: list[_Spotter] = []
        self._learnt: dict[str, str] = {}  # word -> phones, added for hot words
        self._taught: dict[int, int] = {}  # id(decoder) -> how many learnt words it has
        self._lock = threading.Lock()
        self._phones_cache: dict[str, list[str] | None] = {}
        self._probe = self._new_decoder()

    def _new_decoder(self, lm: bool = True) -> object:
        decoder = self._decoder_cls(hmm=str(self.hmm), lm=str(self.lm) if lm else None,
                                    dict=str(self.dict), samprate=self.sample_rate,
                                    loglevel="FATAL")
        return decoder

    def _take(self) -> object:
        with self._lock:
            decoder = self._pool.pop() if self._pool else None
        decoder = decoder or self._new_decoder()
        self._catch_up(decoder)
        return decoder

    def _give(self, decoder: object) -> None:
        with self._lock:
            self._pool.append(decoder)

    def _take_spotter(self, hot: tuple[str, ...]) -> _Spotter:
        """A keyword-spotting decoder (no language model) with a search for these words.

        Searches are kept per set of hot words, so a hearing that sends the same list with
        every utterance pays for building the search once.
        """
        with self._lock:
            spotter = self._spotters.pop() if self._spotters else None
        if spotter is None or len(spotter.searches) >= 64:
            if spotter is not None:
                with self._lock:
                    self._taught.pop(id(spotter.decoder), None)
            spotter = _Spotter(self._new_decoder(lm=False))
        self._catch_up(spotter.decoder)
        name = "hot_" + hashlib.sha1("\n".join(hot).encode()).hexdigest()[:16]
        if name not in spotter.searches:
            with tempfile.NamedTemporaryFile("w", suffix=".kws", delete=True) as f:
                f.write("".join(f"{h} /{HOT_THRESHOLD}/\n" for h in hot))
                f.flush()
                spotter.decoder.add_kws(name, f.name)  # type: ignore[attr-defined]
            spotter.searches.add(name)
        spotter.decoder.activate_search(name)  # type: ignore[attr-defined]
        return spotter

    def _give_spotter(self, spotter: _Spotter) -> None:
        with self._lock:
            self._spotters.append(spotter)

    def describe(self) -> dict[str, str]:
        from importlib.metadata import version

        packaged = self.model_dir == _packaged_model()
        lm = {"court": "court-domain language model",
              "generic": self.lm.name}.get(self.language_model, self.lm.name)
        return {
            "engine": "pocketsphinx " + version("pocketsphinx"),
            "model": f"en-US (CMU Sphinx continuous acoustic model, {lm}, cmudict)"
            if packaged else f"pocketsphinx model at {self.model_dir} ({lm})",
            "language": "en-US" if packaged else "as mounted",
            "source": "shipped in the pocketsphinx wheel" if packaged else str(self.model_dir),
            "acoustic_model": str(self.hmm.name),
            "language_model": self.lm.name,
            "dictionary": self.dict.name,
        }

    def phones(self, word: str) -> list[str] | None:
        if word not in self._phones_cache:
            with self._lock:
                found = self._probe.lookup_word(word)  # type: ignore[attr-defined]
            self._phones_cache[word] = found.split() if found else None
        return self._phones_cache[word]

    def normalise_hot_words(self, words: list[str]) -> tuple[tuple[str, ...], list[str]]:
        """Hot words the engine can listen for (lower case), and the ones it cannot.

        A word missing from the dictionary (a party's or a company's name) is given a
        pronunciation from espeak-ng and added to every decoder's dictionary.
        """
        usable, unknown = [], []
        for raw in words:
            phrase = " ".join(re.sub(r"[^a-z' ]", " ", raw.lower()).split())
            if not phrase:  # nothing this English model could say (Chinese characters)
                unknown.append(raw)
                continue
            if all(self.phones(w) or self._learn(w) for w in phrase.split()):
                if phrase not in usable:
                    usable.append(phrase)
            else:
                unknown.append(raw)
        return tuple(usable), unknown

    def _learn(self, word: str) -> bool:
        phones = pronounce.cmu_phones(word)
        if phones is None:
            return False
        with self._lock:
            if len(self._learnt) >= 5000:
                return False
            self._learnt[word] = phones
            self._phones_cache[word] = phones.split()
        return True

    def _catch_up(self, decoder: object) -> None:
        """Teach a decoder the words learnt since it last ran (call without the lock)."""
        with self._lock:
            done = self._taught.get(id(decoder), 0)
            missing = list(self._learnt.items())[done:]
            self._taught[id(decoder)] = done + len(missing)
        for word, phones in missing:
            decoder.add_word(word, phones, True)  # type: ignore[attr-defined]

    def _decode(self, decoder: object, pcm: np.ndarray) -> list[tuple[str, int, int, float]]:
        d = decoder
        d.start_utt()  # type: ignore[attr-defined]
        d.process_raw(pcm.tobytes(), full_utt=True)  # type: ignore[attr-defined]
        d.end_utt()  # type: ignore[attr-defined]
        out = []
        for seg in d.seg() or ():  # type: ignore[attr-defined]
            word = seg.word.strip()
            out.append((word, seg.start_frame, seg.end_frame, float(seg.prob)))
        return out

    def transcribe(self, pcm: np.ndarray, offset: float = 0.0,
                   hot_words: tuple[str, ...] = ()) -> list[Word]:
        decoder = self._take()
        try:
            raw = self._decode(decoder, pcm)
        finally:
            self._give(decoder)
        words = [
            [re.sub(r"\(\d+\)$", "", w), s, e, p, False] for w, s, e, p in raw
            if not (w.startswith("<") or w.startswith("[") or w.startswith("+"))
        ]
        if hot_words:
            words = self._apply_hot_words(pcm, words, hot_words)
        return [Word(text=w, start=round(offset + s / 100, 2), end=round(offset + (e + 1) / 100, 2),
                     confidence=round(min(1.0, max(0.0, p)), 4), hot=h)
                for w, s, e, p, h in words]

    def _apply_hot_words(self, pcm: np.ndarray, words: list[list], hot: tuple[str, ...]
                         ) -> list[list]:
        spotter = self._take_spotter(hot)
        try:
            spotted = self._decode(spotter.decoder, pcm)
        finally:
            self._give_spotter(spotter)
        # score every detection against the words it overlaps, then apply the best-matching
        # first, so two hot words spotted over the same stretch do not both claim it
        candidates = []
        for phrase, start, end, prob in spotted:
            phrase = phrase.strip()
            overlapping = [i for i, w in enumerate(words)
                           if min(end, w[2]) - max(start, w[1]) > 0.3 * (w[2] - w[1] + 1)]
            if not overlapping:
                continue
            heard = [p for i in overlapping for p in (self.phones(words[i][0]) or [])]
            target = [p for w in phrase.split() for p in (self.phones(w) or [])]
            similarity = _phone_similarity(heard, target)
            if similarity >= HOT_SIMILARITY:
                candidates.append((similarity, prob, phrase, start, end, overlapping))
        taken: set[int] = set()
        replacements = []
        for _similarity, prob, phrase, start, end, overlapping in sorted(
                candidates, key=lambda c: (-c[0], -c[1])):
            if taken & set(overlapping):
                continue
            taken.update(overlapping)
            replacements.append((overlapping, phrase, start, end, prob))
        for overlapping, phrase, start, end, prob in sorted(replacements, reverse=True):
            first, last = overlapping[0], overlapping[-1]
            if " ".join(words[i][0] for i in overlapping) == phrase:
                words[first][4] = True  # already right: mark it as a hot word
                continue
            merged = [phrase, min(start, words[first][1]), max(end, words[last][2]), prob, True]
            words[first : last + 1] = [merged]
        return words


def load_engine(kind: str, model_dir: Path | None, language_model: str | None = None
                ) -> SpeechEngine:
    """The engine the settings name. Chinese engines are mounted from a path in production;
    their packages are not part of this image, so choosing one without it fails at start."""
    if kind == "pocketsphinx":
        return PocketSphinxEngine(model_dir, language_model)
    if kind in ("vosk", "sherpa-onnx", "funasr"):
        package = {"vosk": "vosk", "sherpa-onnx": "sherpa_onnx", "funasr": "funasr"}[kind]
        if importlib.util.find_spec(package) is None:
            raise EngineUnavailable(
                f"ASR_ENGINE={kind} needs the {package} package in the image and a model "
                "directory in ASR_MODEL_DIR; neither ships with this build")
        raise EngineUnavailable(f"ASR_ENGINE={kind}: adapter not built yet in this version")
    raise EngineUnavailable(f"ASR_ENGINE={kind!r} is unknown: use pocketsphinx, vosk, "
                            "sherpa-onnx or funasr")
