"""`ocr-batch`: recognise a batch of case files offline and optionally index them.

    ocr-batch FILE_OR_DIR... --out DIR [--case CASE_ID --index PATH] [--threads N] [--json]

Writes `<out>/<name>.json` (pages, lines, boxes, confidences) and `<out>/<name>.txt`
for each document, shows progress on stderr, and ends with a summary.
Exit codes: 0 every document done; 1 some documents refused (the summary says why);
2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .domain import documents
from .domain.errors import InputRejected
from .domain.pipeline import OcrPipeline, PipelineConfig
from .store.index import CaseIndex

SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf"}


def _inputs(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found.extend(sorted(x for x in p.rglob("*") if x.suffix.lower() in SUFFIXES))
        elif p.is_file():
            found.append(p)
        else:
            raise SystemExit(f"ocr-batch: {p} does not exist")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ocr-batch", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", type=Path, help="files or directories")
    parser.add_argument("--out", type=Path, required=True, help="directory for the results")
    parser.add_argument("--case", help="index the pages under this case id")
    parser.add_argument("--index", type=Path, help="SQLite search index (with --case)")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime threads")
    parser.add_argument("--max-pages", type=int, default=500)
    parser.add_argument("--dpi", type=int, default=150, help="PDF rendering resolution")
    parser.add_argument("--low-confidence", type=float, default=0.80)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    if args.case and not args.index:
        parser.error("--case needs --index PATH (the search index to write)")

    files = _inputs(args.inputs)
    args.out.mkdir(parents=True, exist_ok=True)
    limits = documents.Limits(max_bytes=1 << 40, max_pages=args.max_pages,
                              max_pixels=200_000_000, pdf_dpi=args.dpi)
    pipeline = OcrPipeline(PipelineConfig(threads=args.threads,
                                          low_confidence=args.low_confidence))
    index = CaseIndex(args.index) if args.case else None
    done, refused, pages_total, flagged = [], [], 0, 0
    start = time.perf_counter()
    for n, path in enumerate(files, 1):
        try:
            results = []
            for page_no, image in enumerate(documents.iter_pages(path.read_bytes(), limits), 1):
                results.append(pipeline.recognise(image, page=page_no))
                print(f"[{n}/{len(files)}] {path.name} page {page_no}", file=sys.stderr)
        except InputRejected as exc:
            refused.append({"file": str(path), "code": exc.code, "detail": exc.detail})
            print(f"[{n}/{len(files)}] {path.name}: refused: {exc.detail}", file=sys.stderr)
            continue
        stem = path.stem
        (args.out / f"{stem}.json").write_text(json.dumps(
            {"document": path.name, "pages": [r.to_dict() for r in results]},
            ensure_ascii=False, indent=1), encoding="utf-8")
        (args.out / f"{stem}.txt").write_text(
            "\n\f\n".join(r.text for r in results) + "\n", encoding="utf-8")
        if index is not None:
            index.add_document(args.case, path.name, [(r.page, r.text) for r in results])
        pages_total += len(results)
        flagged += sum(x.low_confidence for r in results for x in r.lines)
        done.append(str(path))
    elapsed = time.perf_counter() - start
    summary = {
        "documents": len(done), "refused": refused, "pages": pages_total,
        "low_confidence_lines": flagged, "seconds": round(elapsed, 2),
        "pages_per_second": round(pages_total / elapsed, 2) if elapsed else 0.0,
        "out": str(args.out),
    }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(f"\n{len(done)} documents, {pages_total} pages in {elapsed:.1f} s "
              f"({summary['pages_per_second']} pages/s); "
              f"{flagged} low-confidence lines to check; results in {args.out}")
        for r in refused:
            print(f"  refused {r['file']}: {r['detail']}")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
