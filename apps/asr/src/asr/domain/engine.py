"""Speech engines behind one interface.

`PocketSphinxEngine` runs the en-US model that ships inside the pocketsphinx wheel, or
any pocketsphinx model directory mounted at a path. A Chinese engine (Vosk, sherpa-onnx,
FunASR) implements the same `SpeechEngine` protocol and is chosen by `load_engine`.

Language model (`language_model`):

- "court" (the default with the wheel's model): the court-domain model (`asr.court_lm`)
  and the wheel's generic en-US model, mixed per utterance. Each decodes the utterance;
  when they disagree, both word sequences are aligned to the same audio in one grammar,
  each path weighted by its probability under the mixture
  `COURT_MIX * p_court + (1 - COURT_MIX) * p_generic`, and the better path is kept. Court
  phrasing is heard as the court writes it, and speech outside the court's texts is
  still heard by the generic model.
- "court-only": the court model alone (a closed vocabulary: the court's texts plus the
  hot words). "generic": the model directory's own *.lm.bin. Or a path to a model file.

Hot words act twice. (1) They are boosted `HOT_BOOST` times in the court model, with
every distribution renormalised (`asr.domain.arpa`), so the first pass favours them where
the audio is ambiguous. (2) A keyword-spotting pass (no language model) proposes them
over the first-pass words, and so does a phone-similarity match ("card" for "court");
the utterance is then aligned to the audio once, through the words heard with each
proposal as an alternative path weighted as the n-gram search weighs it, and the path the
audio supports is kept. So "car" is corrected to "court" where the audio fits "court",
and a false alarm over a word that was said loses to it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from . import pronounce
from .arpa import Arpa

COURT_LM = Path(__file__).resolve().parents[1] / "models" / "court-en-us.arpa"
LANGUAGE_MODELS = ("court", "court-only", "generic")
COURT_MIX = 0.5  # weight of the court model in the per-utterance mixture with the generic
HOT_BOOST = 10.0  # a hot word is this many times as likely in the court model
LN_FLOOR = -99 * 2.302585  # ln p for a word a model lacks (ARPA's -99)
# the n-gram search's language weight and word insertion penalty (pocketsphinx's defaults):
# alignment grammars take their path weights unscaled, so the rescoring applies both itself
LW, WIP = 6.5, 0.65
MIX_LW = 1.0  # language weight when choosing between the two models' readings (tuned)
HOT_LW = 6.5  # language weight in the hot-word alignment (tuned)
HOT_THRESHOLD = "1e-40"  # keyword-spotting threshold for one hot word
HOT_PRIOR_FLOOR = 1e-30  # smallest weight of a reading in the hot-word alignment
HOT_PROPOSE = 0.4  # phone similarity at which a hot phrase is proposed for words heard


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


def _filler(word: str) -> bool:
    return word.startswith(("<", "[", "+"))


def _words(raw: list[tuple[str, int, int, float]]) -> list[tuple[str, int, int, float]]:
    """Words without fillers and silences, pronunciation variants folded ("the(2)")."""
    return [(re.sub(r"\(\d+\)$", "", w), s, e, p) for w, s, e, p in raw if not _filler(w)]


def _is_arpa(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(4096)
    return b"\\data\\" in head


def _phone_similarity(a: list[str], b: list[str]) -> float:
    """1 - (phone edit distance / the longer length): K AO R T vs K AA R D is 0.5."""
    previous = list(range(len(b) + 1))
    for i, pa in enumerate(a, 1):
        current = [i]
        for j, pb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (pa != pb)))
        previous = current
    return 1.0 - previous[-1] / max(len(a), len(b), 1)


def _find(words: list[str], phrase: list[str]) -> int | None:
    """Where the phrase occurs in the words, or None."""
    for i in range(len(words) - len(phrase) + 1):
        if words[i : i + len(phrase)] == phrase:
            return i
    return None


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
        self.generic_lm = lm
        if choice in ("court", "court-only"):
            lm = COURT_LM
        elif choice != "generic":
            lm = Path(choice)
        if not lm.is_file():
            raise EngineUnavailable(f"language model {lm} is missing")
        self.language_model = choice if choice in LANGUAGE_MODELS else "file"
        self.model_dir, self.hmm, self.lm, self.dict = root, hmm, lm, dic
        self._pool: list[object] = []
        self._spotters: list[_Spotter] = []
        self._learnt: dict[str, str] = {}  # word -> phones, added for hot words
        self._taught: dict[int, int] = {}  # id(decoder) -> how many learnt words it has
        self._lock = threading.Lock()
        self._phones_cache: dict[str, list[str] | None] = {}
        # hot words boosted in the language model: possible where the model is ARPA text
        self._arpa = Arpa.parse(lm.read_text(encoding="utf-8")) if _is_arpa(lm) else None
        self._boosted: OrderedDict[str, tuple[Path, Arpa]] = OrderedDict()
        self._lm_searches: dict[int, list[str]] = {}  # id(decoder) -> boosted searches
        self._tmp = tempfile.TemporaryDirectory(prefix="asr-lm-")
        self._generic_ngrams = None
        if self.language_model in ("court", "generic"):  # its probabilities, for rescoring
            from pocketsphinx import Config, LogMath, NGramModel

            self._logmath = LogMath()
            self._generic_ngrams = NGramModel(Config(), self._logmath, str(self.generic_lm))
        self._probe = self._new_decoder()
        self._plain_search = self._probe.current_search()  # type: ignore[attr-defined]

    def _new_decoder(self, lm: bool = True) -> object:
        """A decoder whose default search is the language model chosen; in the "court"
        mix, the generic model is a second search on the same decoder."""
        decoder = self._decoder_cls(hmm=str(self.hmm), lm=str(self.lm) if lm else None,
                                    dict=str(self.dict), samprate=self.sample_rate,
                                    loglevel="FATAL")
        if lm and self.language_model == "court":
            decoder.add_lm_file("generic", str(self.generic_lm))  # type: ignore[attr-defined]
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
        """A decoder without a language model (for alignment grammars), with a
        keyword-spotting search for these words active when there are any.

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
        if not hot:  # for an alignment grammar only
            return spotter
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
        lm = {"court": f"court-domain language model mixed with {self.generic_lm.name}",
              "court-only": "court-domain language model",
              "generic": self.lm.name}.get(self.language_model, self.lm.name)
        return {
            "engine": "pocketsphinx " + version("pocketsphinx"),
            "model": f"en-US (CMU Sphinx continuous acoustic model, {lm}, cmudict)"
            if packaged else f"pocketsphinx model at {self.model_dir} ({lm})",
            "language": "en-US" if packaged else "as mounted",
            "source": "shipped in the pocketsphinx wheel" if packaged else str(self.model_dir),
            "acoustic_model": str(self.hmm.name),
            "language_model": self.language_model if self.language_model != "file"
            else self.lm.name,
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
            court = self._use_language_model(decoder, hot_words)
            raw = _words(self._decode(decoder, pcm))
            if self.language_model == "court":
                decoder.activate_search("generic")  # type: ignore[attr-defined]
                generic = _words(self._decode(decoder, pcm))
        finally:
            self._give(decoder)
        if self.language_model == "court" and [w[0] for w in generic] != [w[0] for w in raw]:
            raw = self._mix(pcm, raw, generic, court)
        words = [[w, s, e, p, False] for w, s, e, p in raw]
        if hot_words:
            words = self._apply_hot_words(pcm, words, hot_words)
        return [Word(text=w, start=round(offset + s / 100, 2), end=round(offset + (e + 1) / 100, 2),
                     confidence=round(min(1.0, max(0.0, p)), 4), hot=h)
                for w, s, e, p, h in words]

    def _mix(self, pcm: np.ndarray, court: list[tuple[str, int, int, float]],
             generic: list[tuple[str, int, int, float]], model: Arpa | None
             ) -> list[tuple[str, int, int, float]]:
        """The court model's or the generic model's reading of an utterance: both aligned
        to the audio in one grammar, each path weighted by the mixture probability."""
        readings = [r for r in (court, generic) if r]
        if len(readings) < 2:
            return readings[0] if readings else court
        # the mixture as a prior at weight MIX_LW: each reading is already the best path
        # under its own model at the search's full language weight
        logs = [MIX_LW * self._mixture_ln(model, [w[0] for w in r]) for r in readings]
        top = max(logs)
        weights = [float(np.exp(x - top)) for x in logs]
        total = sum(weights)
        transitions, state = [], 2
        for reading, weight in zip(readings, weights, strict=True):
            previous = 0
            for i, (word, *_rest) in enumerate(reading):
                following = 1 if i == len(reading) - 1 else state
                transitions.append((previous, following, max(weight / total, 1e-300)
                                    if i == 0 else 1.0, word))
                previous, state = following, state + 1
        spotter = self._take_spotter(())
        try:
            d = spotter.decoder
            d.add_fsg("mix", d.create_fsg("mix", 0, 1, transitions))  # type: ignore[attr-defined]
            d.activate_search("mix")  # type: ignore[attr-defined]
            chosen = [re.sub(r"\(\d+\)$", "", w[0]) for w in self._decode(d, pcm)
                      if not _filler(w[0])]
        except (RuntimeError, ValueError):
            return court
        finally:
            self._give_spotter(spotter)
        return generic if chosen == [w[0] for w in generic] else court

    def _path_ln(self, model: Arpa | None, words: list[str], lw: float = LW) -> float:
        """A word sequence's language score as the n-gram search counts it:
        lw * ln p(words) + len(words) * ln WIP."""
        return lw * self._mixture_ln(model, words) + len(words) * float(np.log(WIP))

    def _mixture_ln(self, model: Arpa | None, words: list[str]) -> float:
        """ln of COURT_MIX * p_court(words) + (1 - COURT_MIX) * p_generic(words)."""
        tokens = ["<s>", *words, "</s>"]
        court = generic = 0.0
        ln10, ln_base = 2.302585092994046, float(np.log(1.0001))
        for i in range(1, len(tokens)):
            history = tokens[max(0, i - 2) : i]
            if model is not None:
                court += max(model.log10p(tokens[i], tuple(history)) * ln10, LN_FLOOR)
            if self._generic_ngrams is not None:
                with self._lock:
                    g = self._generic_ngrams.prob([tokens[i], *reversed(history)])
                generic += max(g * ln_base, LN_FLOOR)
        if self._generic_ngrams is None:
            return court
        if model is None:
            return generic
        top = max(court, generic)
        return top + float(np.log(COURT_MIX * np.exp(court - top)
                                  + (1 - COURT_MIX) * np.exp(generic - top)))

    def _boosted_model(self, hot: tuple[str, ...]) -> tuple[str, Path, Arpa] | None:
        """The language model with these hot words boosted (`HOT_BOOST`), written once per
        list of hot words and kept (the last 32 lists)."""
        if self._arpa is None or HOT_BOOST == 1.0:
            return None
        terms = tuple(sorted({w for phrase in hot for w in phrase.split()}))
        name = "hot_lm_" + hashlib.sha1("\n".join(terms).encode()).hexdigest()[:16]
        with self._lock:
            kept = self._boosted.get(name)
            if kept is not None:
                self._boosted.move_to_end(name)
                return name, *kept
        model = self._arpa.boosted(set(terms), HOT_BOOST)
        path = Path(self._tmp.name) / f"{name}.arpa"
        path.write_text(model.text(), encoding="utf-8")
        with self._lock:
            self._boosted[name] = (path, model)
            while len(self._boosted) > 32:
                _old, (stale, _model) = self._boosted.popitem(last=False)
                stale.unlink(missing_ok=True)
        return name, path, model

    def _use_language_model(self, decoder: object, hot: tuple[str, ...]) -> Arpa | None:
        """Activate the decoder's plain language model, or the one with the hot words
        boosted (added to this decoder the first time it meets the list); returns the
        model now in use when it is ARPA text."""
        boosted = self._boosted_model(hot) if hot else None
        d = decoder
        if boosted is None:
            d.activate_search(self._plain_search)  # type: ignore[attr-defined]
            return self._arpa
        name, path, model = boosted
        have = self._lm_searches.setdefault(id(decoder), [])
        if name not in have:
            if len(have) >= 8:
                d.remove_search(have.pop(0))  # type: ignore[attr-defined]
            # read with the decoder's own settings, so the language weight applies
            d.add_lm_file(name, str(path))  # type: ignore[attr-defined]
            have.append(name)
        d.activate_search(name)  # type: ignore[attr-defined]
        return model

    def _apply_hot_words(self, pcm: np.ndarray, words: list[list], hot: tuple[str, ...]
                         ) -> list[list]:
        """Replace first-pass words by a spotted hot word where the audio supports it.

        The keyword spotter proposes hot words over stretches of the first-pass words.
        Each stretch then has alternatives: the words heard, or the words with a spotted
        phrase in place of some of them. The whole utterance is aligned to the audio once,
        in a grammar that runs through the words heard and offers those alternatives;
        each alternative is weighted by how the language model scores the utterance with
        it (`_path_ln`, as the n-gram search scores it) and, for a hot phrase, `HOT_BOOST`
        more, the prior the first pass gives it. The path the audio and those weights
        support is kept: "card" becomes "court" where "the court will" fits the audio,
        and a spotter's false alarm over a different word loses to what was said.
        """
        spotter = self._take_spotter(hot)
        try:
            spotted = self._decode(spotter.decoder, pcm)
            proposals: set[tuple[tuple[int, ...], str]] = set()
            for phrase, start, end, _prob in spotted:
                phrase = phrase.strip()
                overlapping = tuple(i for i, w in enumerate(words)
                                    if min(end, w[2]) - max(start, w[1])
                                    > 0.3 * (w[2] - w[1] + 1))
                if not overlapping:
                    continue
                heard = [words[i][0] for i in overlapping]
                at = _find(heard, phrase.split())
                if at is not None:  # already heard: mark it as a hot word
                    for i in overlapping[at : at + len(phrase.split())]:
                        words[i][4] = True
                    continue
                proposals.add((overlapping, phrase))
            proposals |= self._sound_alike(words, hot)
            if not proposals:
                return words
            chosen = self._align_alternatives(spotter.decoder, pcm, words, proposals)
        finally:
            self._give_spotter(spotter)
        for (first, last), phrase in sorted(chosen, reverse=True):
            confidence = min(words[i][3] for i in range(first, last + 1))
            words[first : last + 1] = [[phrase, words[first][1], words[last][2],
                                        confidence, True]]
        return words

    def _sound_alike(self, words: list[list], hot: tuple[str, ...]
                     ) -> set[tuple[tuple[int, ...], str]]:
        """Proposals the spotter may miss: one or two words heard that sound like a hot
        phrase (phone similarity at least `HOT_PROPOSE`; "card" for "court" is 0.5). Only
        a proposal: the alignment decides."""
        targets = [(phrase, [p for w in phrase.split() for p in (self.phones(w) or [])])
                   for phrase in hot]
        out = set()
        for first in range(len(words)):
            for last in (first, first + 1):
                if last >= len(words):
                    continue
                span = [words[i][0] for i in range(first, last + 1)]
                heard = [p for w in span for p in (self.phones(w) or [])]
                for phrase, target in targets:
                    if (target and heard and _find(span, phrase.split()) is None
                            and abs(len(heard) - len(target)) <= 2
                            and _phone_similarity(heard, target) >= HOT_PROPOSE):
                        out.add((tuple(range(first, last + 1)), phrase))
        return out

    def _align_alternatives(self, decoder: object, pcm: np.ndarray, words: list[list],
                            proposals: set[tuple[tuple[int, ...], str]]
                            ) -> list[tuple[tuple[int, int], str]]:
        """The proposals ((word indices, hot phrase)) the audio supports: one alignment
        of the utterance through the words heard, with each proposal as an alternative
        path. Overlapping proposals are alternatives of one span."""
        heard = [w[0] for w in words]
        spans: list[list] = []  # [first, last, [(first, last, phrase), ...]]
        for overlapping, phrase in sorted(proposals):
            first, last = overlapping[0], overlapping[-1]
            if spans and first <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], last)
                spans[-1][2].append((first, last, phrase))
            else:
                spans.append([first, last, [(first, last, phrase)]])
        base = self._path_ln(self._arpa, heard, HOT_LW)
        boost = HOT_LW * float(np.log(HOT_BOOST))
        transitions: list[tuple[int, int, float, str]] = []
        state, position = 1, 0  # state 0 starts; `state` is the next free state number
        current = 0

        def chain(tokens: list[str], source: int, target: int, weight: float) -> None:
            nonlocal state
            previous = source
            for i, token in enumerate(tokens):
                following = target if i == len(tokens) - 1 else (state := state + 1)
                transitions.append((previous, following, weight if i == 0 else 1.0, token))
                previous = following

        for first, last, alternatives in spans:
            if position < first:  # the words heard up to this span
                target = (state := state + 1)
                chain(heard[position:first], current, target, 1.0)
                current = target
            target = (state := state + 1)
            readings = [(None, heard[first : last + 1], 0.0)]
            for a, b, phrase in alternatives:
                tokens = heard[first:a] + phrase.split() + heard[b + 1 : last + 1]
                changed = heard[:first] + tokens + heard[last + 1 :]
                readings.append(((a, b, phrase), tokens,
                                 self._path_ln(self._arpa, changed, HOT_LW) - base + boost))
            top = max(r[2] for r in readings)
            total = sum(float(np.exp(r[2] - top)) for r in readings)
            for _proposal, tokens, score in readings:
                # the language model's say is bounded (HOT_PRIOR_FLOOR): a reading the
                # audio supports far better is never pruned away unheard
                weight = max(float(np.exp(score - top)) / total, HOT_PRIOR_FLOOR)
                chain(tokens, current, target, weight)
            current, position = target, last + 1
        if position < len(heard):
            target = (state := state + 1)
            chain(heard[position:], current, target, 1.0)
            current = target
        return self._decode_alternatives(decoder, pcm, transitions, current, heard, spans)

    def _decode_alternatives(self, decoder: object, pcm: np.ndarray,
                             transitions: list[tuple[int, int, float, str]], final: int,
                             heard: list[str], spans: list[list]
                             ) -> list[tuple[tuple[int, int], str]]:
        d = decoder
        grammar = [(a, b, p, w) if w else (a, b, p) for a, b, p, w in transitions]
        try:
            d.add_fsg("hot_check",  # type: ignore[attr-defined]
                      d.create_fsg("hot_check", 0, final, grammar))  # type: ignore[attr-defined]
            d.activate_search("hot_check")  # type: ignore[attr-defined]
            said = [re.sub(r"\(\d+\)$", "", w[0]) for w in self._decode(d, pcm)
                    if not _filler(w[0])]
        except (RuntimeError, ValueError):
            return []
        # read the decoded words back against the spans: what replaced each span
        chosen: list[tuple[tuple[int, int], str]] = []
        i = j = 0  # i: index in heard, j: index in said
        for first, last, alternatives in spans:
            if said[j : j + first - i] != heard[i:first]:
                return []  # not the path through the words heard: keep them
            j += first - i
            for a, b, phrase in sorted(alternatives, key=lambda x: -len(x[2].split())):
                tokens = heard[first:a] + phrase.split() + heard[b + 1 : last + 1]
                if said[j : j + len(tokens)] == tokens and tokens != heard[first : last + 1]:
                    chosen.append(((a, b), phrase))
                    j += len(tokens)
                    break
            else:
                if said[j : j + last + 1 - first] != heard[first : last + 1]:
                    return []
                j += last + 1 - first
            i = last + 1
        return chosen


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
