"""ASR benchmark on held-out clips: WER, hot-word recall, false alarms and real-time factor,
for each language model (the court mix, the court model alone, the wheel's generic model)
with hot words off and on, side by side in one run. Printed, not timed.

    .venv/bin/python benchmarks/asr_bench.py [--sentences 40] [--voices flite:kal16,festival:ked]
                                             [--lms court,court-only,generic] [--no-espeak]
                                             [--json]

Held out: the sentences come from the court-text generator with `HELD_OUT_SEED` (the
language model was built from `LM_SEED`, the settings tuned on `TUNING_SEED` clips) and
none of them is in the model's training text; the voices are ones the tuning never used
(tuning: flite slt, awb, rms; held out: flite kal16 and festival's kal-diphone "ked").
Further conditions: espeak-ng (a formant voice far from the acoustic model's training
speech, reported apart), the tests' 16 hand-written sentences (outside the generator),
and everyday sentences with no court term in them, where every hot word the output has
is a false alarm. Every clip goes through the service's own path (speech regions,
pocketsphinx, hot-word pass); one decoder, one core.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

from asr import court_lm, court_text
from asr.domain.audio import AudioLimits, load
from asr.domain.engine import PocketSphinxEngine
from asr.domain.quality import edit_distance, recall, words
from asr.domain.recognise import transcribe
from asr.synth import NAME_SENTENCES, NAMES, SENTENCES, Clip, make_corpus

HOT = court_text.HOT_WORDS
# everyday speech without a court term: any hot word in the output is a false alarm; the
# last four hold the confusable words (card, car, cards, kids) said for real
EVERYDAY = (
    "please be seated everyone", "can you tell us where you were on that evening",
    "i do not remember the exact time", "let the record show that the witness nodded",
    "we will take a short break now", "is there anything else you would like to add",
    "my client has nothing further to say", "thank you very much for your time",
    "the card was left on the table", "the kids played in the yard",
    "he parked his car outside", "we sent the cards by post",
)


def run(engine: PocketSphinxEngine, clips: list[Clip], hot: list[str],
        terms: tuple[str, ...] = HOT) -> dict[str, float]:
    limits = AudioLimits(max_bytes=10**9, max_seconds=3600)
    errors = n_words = found = expected = false_alarms = 0
    audio = busy = 0.0
    for clip in clips:
        recording = load(clip.wav(), limits, engine.sample_rate)
        start = time.perf_counter()
        result = transcribe(engine, recording, hot_words=hot)
        busy += time.perf_counter() - start
        audio += recording.seconds
        ref, hyp = words(clip.text), words(result.text)
        errors += edit_distance(ref, hyp)
        n_words += len(ref)
        f, e = recall(clip.text, result.text, terms)
        found, expected = found + f, expected + e
        false_alarms += sum(max(0, hyp.count(t) - ref.count(t)) for t in terms)
    return {"clips": len(clips), "words": n_words, "wer": errors / n_words,
            "hot_found": found, "hot_expected": expected,
            "hot_word_recall": found / expected if expected else float("nan"),
            "false_alarms": false_alarms, "rtf": busy / audio, "audio_seconds": audio}


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sentences", type=int, default=40, help="held-out sentences per voice")
    ap.add_argument("--voices", default="flite:kal16,festival:ked")
    ap.add_argument("--lms", default="court,court-only,generic")
    ap.add_argument("--no-espeak", action="store_true")
    ap.add_argument("--no-extra", action="store_true",
                    help="held-out generator sentences only (no hand-written, no everyday)")
    ap.add_argument("--only", help="run only the conditions whose name starts so")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    training = set(court_lm.training_text())
    held_out = court_text.spoken_sentences(court_lm.HELD_OUT_SEED, args.sentences,
                                           avoid=training)
    voices = args.voices.split(",")
    conditions: dict[str, list[Clip]] = {}
    for voice in voices:
        conditions[f"held-out {voice}"] = make_corpus(voices=(voice,), sentences=held_out)
    if not args.no_extra:
        conditions["hand-written (tests)"] = make_corpus(voices=tuple(voices),
                                                         sentences=SENTENCES)
        conditions["everyday (no terms)"] = make_corpus(voices=tuple(voices),
                                                        sentences=EVERYDAY)
        # parties' names the dictionary lacks; the hot words are the names (learnt from
        # espeak-ng), so a fresh engine per model hears them first without the list
        conditions["party names"] = make_corpus(voices=tuple(voices),
                                                sentences=NAME_SENTENCES * 2)
    if not args.no_espeak and shutil.which("espeak-ng"):
        conditions["espeak-ng (hard)"] = make_corpus(
            voices=("espeak-ng:en-us",), sentences=held_out[: max(10, args.sentences // 2)])
    if args.only:
        conditions = {k: v for k, v in conditions.items() if k.startswith(args.only)}
    results: dict[str, dict[str, dict[str, float]]] = {}
    for lm in args.lms.split(","):
        engine = PocketSphinxEngine(language_model=lm)
        for name, clips in conditions.items():
            print(f"[{lm}] {name}: {len(clips)} clips", file=sys.stderr)
            names = name == "party names"
            if names:
                engine = PocketSphinxEngine(language_model=lm)  # knows none of the names
            terms = NAMES if names else HOT
            for hot in ("off", "on"):
                results.setdefault(name, {})[f"{lm} / hot {hot}"] = run(
                    engine, clips, list(terms) if hot == "on" else [], terms)

    pooled: dict[str, dict[str, float]] = {}
    held = [c for c in conditions if c.startswith("held-out")]
    for kind in results[held[0]] if held else ():
        rows = [results[c][kind] for c in held]
        n = sum(r["words"] for r in rows)
        found, expected = sum(r["hot_found"] for r in rows), sum(r["hot_expected"] for r in rows)
        audio = sum(r["audio_seconds"] for r in rows)
        pooled[kind] = {"clips": sum(r["clips"] for r in rows), "words": n,
                        "wer": sum(r["wer"] * r["words"] for r in rows) / n,
                        "hot_found": found, "hot_expected": expected,
                        "hot_word_recall": found / expected,
                        "false_alarms": sum(r["false_alarms"] for r in rows),
                        "rtf": sum(r["rtf"] * r["audio_seconds"] for r in rows) / audio,
                        "audio_seconds": audio}
    if held:
        results["held-out pooled"] = pooled
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    load_avg = os.getloadavg()
    print(f"\nASR benchmark: {len(held_out)} held-out sentences (seed "
          f"{court_lm.HELD_OUT_SEED}) per voice, {len(HOT)} hot words, pocketsphinx en-US, "
          f"one core; load average at the end {load_avg[0]:.1f}\n")
    print(f"{'condition':22}{'model / hot words':24}{'clips':>6}{'WER':>8}{'hot recall':>14}"
          f"{'false alarms':>14}{'RTF':>7}")
    for name in [*held, *(["held-out pooled"] if held else []),
                 *[c for c in conditions if c not in held]]:
        for i, (kind, r) in enumerate(results[name].items()):
            recall_text = (f"{r['hot_found']}/{r['hot_expected']} "
                           f"{r['hot_word_recall']:.0%}" if r["hot_expected"] else "-")
            print(f"{name if i == 0 else '':22}{kind:24}{r['clips']:>6}{r['wer']:>8.1%}"
                  f"{recall_text:>14}{r['false_alarms']:>14}{r['rtf']:>7.3f}")
    print("\nhot recall: occurrences of the hot words in the reference that the output has "
          "(for party names: the 5 names, the hot words there); false alarms: hot words in "
          "the output beyond those the speaker said")
    return 0


if __name__ == "__main__":
    sys.exit(main())
