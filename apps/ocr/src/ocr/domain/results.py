"""What recognition returns for a page: lines in reading order, with boxes and confidences."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Line:
    order: int  # position in reading order, from 0
    text: str
    confidence: float  # the recogniser's mean character probability, 0..1
    box: list[list[float]]  # four corners, clockwise from top-left, in page pixels
    bbox: list[float]  # x0, y0, x1, y1
    orientation: int  # 0 or 180: how the line lay before the line classifier turned it
    low_confidence: bool  # below the service's threshold: check this line by eye


@dataclass
class PageResult:
    page: int  # 1-based page number within the document
    width: int  # of the normalised page (upright, deskewed, edges cropped)
    height: int
    orientation: int  # clockwise degrees the page was turned on arrival (0/90/180/270)
    orientation_confidence: float
    orientation_source: str  # "classifier" or "text-lines" (when the lines overruled it)
    skew: float  # degrees the page was rotated (counter-clockwise) to level its lines
    black_edges_removed: bool
    lines: list[Line] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return text_of(self.lines)

    @property
    def mean_confidence(self) -> float:
        return sum(x.confidence for x in self.lines) / len(self.lines) if self.lines else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["text"] = self.text
        out["mean_confidence"] = round(self.mean_confidence, 4)
        out["low_confidence_lines"] = [x.order for x in self.lines if x.low_confidence]
        return out


def text_of(lines: list[Line]) -> str:
    """Plain text: lines that share a row are joined by a space, rows by newlines."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda x: x.order):
        if rows and _same_row(rows[-1], line):
            rows[-1].append(line)
        else:
            rows.append([line])
    return "\n".join(" ".join(x.text for x in row) for row in rows)


def _same_row(row: list[Line], b: Line) -> bool:
    """Whether `b` continues the row: to the right of its last line, and one row with the
    row's whole vertical extent (as `reading_order` decides)."""
    if b.bbox[0] < row[-1].bbox[2] - 2:
        return False
    top, bottom = min(x.bbox[1] for x in row), max(x.bbox[3] for x in row)
    return one_row(b.bbox[1], b.bbox[3], top, bottom, side_by_side=True)


# Boxes whose bottoms lie this close (a fraction of the taller box) share a baseline.
BASELINE_TOLERANCE = 0.3


def one_row(top: float, bottom: float, other_top: float, other_bottom: float, *,
            side_by_side: bool) -> bool:
    """Whether two boxes' vertical extents belong to one row: they overlap by more than half
    of the shorter one (slightly uneven baselines, a skew residue), or, side by side, they
    share a baseline while overlapping at all (a signature line: a label, a long rule drawn
    at or just under the baseline, a small-type hint, with wide gaps between them). A small
    line under a large one (a subtitle) is not side by side with it, so stays its own row."""
    shorter = min(bottom - top, other_bottom - other_top)
    taller = max(bottom - top, other_bottom - other_top)
    if shorter <= 0:
        return False
    overlap = min(bottom, other_bottom) - max(top, other_top)
    if overlap > 0.5 * shorter:
        return True
    return (side_by_side and overlap > 0
            and abs(bottom - other_bottom) <= BASELINE_TOLERANCE * taller)


def reading_order(boxes: list[list[list[float]]]) -> list[int]:
    """Indices of boxes in reading order: rows top to bottom, left to right within a row.

    A box joins a row when `one_row` holds against the row's vertical extent: more than
    half of the smaller height in common (slightly uneven baselines), or a shared baseline.
    """
    items = []
    for i, box in enumerate(boxes):
        ys = [p[1] for p in box]
        xs = [p[0] for p in box]
        items.append((min(ys), max(ys), min(xs), i, max(xs)))
    items.sort()
    rows: list[list[tuple[float, float, float, int, float]]] = []
    for item in items:
        top, bottom = item[0], item[1]
        if rows:
            row = rows[-1]
            r_top, r_bottom = min(x[0] for x in row), max(x[1] for x in row)
            beside = all(item[2] >= x[4] - 2 or item[4] <= x[2] + 2 for x in row)
            if one_row(top, bottom, r_top, r_bottom, side_by_side=beside):
                row.append(item)
                continue
        rows.append([item])
    return [item[3] for row in rows for item in sorted(row, key=lambda x: x[2])]
