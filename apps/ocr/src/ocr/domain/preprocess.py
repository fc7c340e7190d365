"""Scan clean-up before recognition: black-edge removal and deskew.

Both work on a grey, downscaled copy and then act on the full page, so they cost a few
tens of milliseconds a page on one core.
"""

from __future__ import annotations

import cv2
import numpy as np

DARK = 60  # grey level below which a pixel counts as scanner black
EDGE_MIN_SHARE = 0.003  # a border-touching dark region this share of the page is an edge


def to_gray(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def remove_black_edges(rgb: np.ndarray) -> tuple[np.ndarray, bool]:
    """Whiten dark regions that touch the page border and crop the frame they leave.

    Returns the cleaned page and whether anything was removed. Text never touches the
    border of a scanned sheet, and specks are far smaller than the share required, so
    only scanner edges and shadows qualify.
    """
    gray = to_gray(rgb)
    h, w = gray.shape
    dark = (gray < DARK).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    edge_ids = []
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        touches = x == 0 or y == 0 or x + bw >= w or y + bh >= h
        if touches and area >= EDGE_MIN_SHARE * h * w:
            edge_ids.append(i)
    if not edge_ids:
        return rgb, False
    edge = np.isin(labels, edge_ids)
    out = rgb.copy()
    out[edge] = 255
    # crop rows and columns that were mostly edge, so the page's own margins remain
    rows = np.where(edge.mean(axis=1) < 0.5)[0]
    cols = np.where(edge.mean(axis=0) < 0.5)[0]
    if rows.size and cols.size:
        out = out[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return np.ascontiguousarray(out), True


def rotate_bound(rgb: np.ndarray, degrees_ccw: float) -> np.ndarray:
    """Rotate by any angle (counter-clockwise), growing the canvas, filling with white."""
    h, w = rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees_ccw, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(
        rgb, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255)
    )


def rotate_quarter(rgb: np.ndarray, degrees_ccw: int) -> np.ndarray:
    return np.ascontiguousarray(np.rot90(rgb, k=(degrees_ccw // 90) % 4))


def _profile_score(ink: np.ndarray, degrees: float) -> float:
    h, w = ink.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    rotated = cv2.warpAffine(ink, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
    rows = rotated.sum(axis=1, dtype=np.float64)
    return float(np.sum(np.diff(rows) ** 2))


def estimate_skew(rgb: np.ndarray, max_degrees: float = 10.0) -> float:
    """The counter-clockwise rotation (degrees) that makes the text lines horizontal.

    Projection profiles: lines of text give the sharpest row-sum profile when level.
    Coarse search in half degrees, then a tenth of a degree around the best.
    """
    gray = to_gray(rgb)
    scale = 900 / max(gray.shape)
    if scale < 1:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    _, ink = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    if ink.mean() < 0.001:  # a blank page has no skew to find
        return 0.0
    coarse = np.arange(-max_degrees, max_degrees + 0.01, 0.5)
    best = max(coarse, key=lambda a: _profile_score(ink, a))
    fine = np.arange(best - 0.5, best + 0.51, 0.1)
    best = max(fine, key=lambda a: _profile_score(ink, a))
    return round(float(best), 2)


def deskew(rgb: np.ndarray, max_degrees: float = 10.0, min_degrees: float = 0.2
           ) -> tuple[np.ndarray, float]:
    angle = estimate_skew(rgb, max_degrees)
    if abs(angle) < min_degrees:
        return rgb, 0.0
    return rotate_bound(rgb, angle), angle
