"""ASR benchmark: word error rate and speed with and without hot words. Printed, not timed.

    .venv/bin/python benchmarks/asr_bench.py [--voices slt,awb,rms,kal16] [--no-espeak] [--json]

Every court sentence of `asr.synth` is spoken by each flite voice (and, as a harder
condition, by espeak-ng), resampled to 16 kHz and transcribed through the service's own
path (speech regions, pocketsphinx, hot-word pass). Figures: WER, hot-word recall, real-time
factor (processing time / audio time, one decoder on one core) and characters per minute:
of audio (how fast the text is spoken) and of processing (how much text the engine
produces per minute of wall-clock time).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time

from asr.domain.audio import AudioLimits, load
from asr.domain.engine import PocketSphinxEngine
from asr.domain.quality import edit_distance, recall, words
from asr.domain.recognise import transcribe
from asr.synth import HOT_WORDS, NAME_SENTENCES, NAMES, SENTENCES, Clip, make_corpus

WHITE_PAPER = "300-350 characters per minute, over 98% accuracy on clear speech"


def run(engine: PocketSphinxEngine, clips: list[Clip], hot: list[str],
        terms: tuple[str, ...] = HOT_WORDS) -> dict[str, float]:
    limits = AudioLimits(max_bytes=10**9, max_seconds=3600)
    errors = n_words = found = expected = chars = 0
    audio = busy = 0.0
    for clip in clips:
        recording = load(clip.wav(), limits, engine.sample_rate)
        start = time.perf_counter()
        result = transcribe(engine, recording, hot_words=hot)
        busy += time.perf_counter() - start
        audio += recording.seconds
        ref = words(clip.text)
        errors += edit_distance(ref, words(result.text))
        n_words += len(ref)
        f, e = recall(clip.text, result.text, terms)
        found, expected = found + f, expected + e
        chars += len(result.text)
    return {
        "clips": len(clips), "words": n_words, "wer": errors / n_words,
        "hot_word_recall": found / expected if expected else float("nan"),
        "rtf": busy / audio, "audio_seconds": audio,
        "chars_per_audio_minute": chars / (audio / 60),
        "chars_per_processing_minute": chars / (busy / 60),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--voices", default="slt,awb,rms,kal16")
    ap.add_argument("--no-espeak", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    engine = PocketSphinxEngine()
    conditions: dict[str, list[Clip]] = {}
    for voice in args.voices.split(","):
        conditions[f"flite {voice}"] = make_corpus(voices=(voice,))
    if not args.no_espeak and shutil.which("espeak-ng"):
        conditions["espeak-ng en-us"] = make_corpus(voices=("en-us",), engine="espeak-ng")
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name, clips in conditions.items():
        print(f"[{name}] {len(clips)} clips", file=sys.stderr)
        results[name] = {"plain": run(engine, clips, []),
                         "hot words": run(engine, clips, list(HOT_WORDS))}
    flite = [c for c in conditions if c.startswith("flite")]
    # names the dictionary lacks: a fresh engine, so the plain run knows none of them
    names = make_corpus(voices=("slt", "awb", "rms"), sentences=NAME_SENTENCES * 3)
    print(f"[party names] {len(names)} clips", file=sys.stderr)
    fresh = PocketSphinxEngine()
    results["party names (flite)"] = {"plain": run(fresh, names, [], NAMES),
                                      "hot words": run(fresh, names, list(NAMES), NAMES)}

    def pooled(kind: str, key: str) -> float:
        total = sum(results[c][kind]["words"] for c in flite)
        return sum(results[c][kind][key] * results[c][kind]["words"] for c in flite) / total

    summary = {k: {key: pooled(k, key) for key in
                   ("wer", "hot_word_recall", "rtf", "chars_per_audio_minute",
                    "chars_per_processing_minute")} for k in ("plain", "hot words")}
    if args.json:
        print(json.dumps({"conditions": results, "flite_pooled": summary}, indent=1))
        return 0
    print(f"\nASR benchmark: {len(SENTENCES)} court sentences per voice, "
          f"{len(HOT_WORDS)} hot words, pocketsphinx en-US from its wheel, one core\n")
    print(f"{'condition':21}{'':11}{'WER':>8}{'accuracy':>10}{'hot recall':>12}{'RTF':>7}"
          f"{'chars/min audio':>17}{'chars/min CPU':>15}")
    for name in [*conditions, "party names (flite)", "flite pooled"]:
        for kind in ("plain", "hot words"):
            r = summary[kind] if name == "flite pooled" else results[name][kind]
            print(f"{name if kind == 'plain' else '':21}{kind:11}{r['wer']:>8.1%}"
                  f"{1 - r['wer']:>10.1%}{r['hot_word_recall']:>12.1%}{r['rtf']:>7.3f}"
                  f"{r['chars_per_audio_minute']:>17.0f}"
                  f"{r['chars_per_processing_minute']:>15.0f}")
    print("\nhot recall: share of the hot words spoken that were recognised (the 15 legal "
          "terms; for party names, the 5 names, which the dictionary lacks)")
    print(f"white paper: {WHITE_PAPER}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
