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
        if rows and _same_row(rows[-1][-1], line):
            rows[-1].append(line)
        else:
            rows.append([line])
    return "\n".join(" ".join(x.text for x in row) for row in rows)


def _same_row(a: Line, b: Line) -> bool:
    top, bottom = max(a.bbox[1], b.bbox[1]), min(a.bbox[3], b.bbox[3])
    shorter = min(a.bbox[3] - a.bbox[1], b.bbox[3] - b.bbox[1])
    return shorter > 0 and (bottom - top) > 0.5 * shorter and b.bbox[0] >= a.bbox[2] - 2


def reading_order(boxes: list[list[list[float]]]) -> list[int]:
    """Indices of boxes in reading order: rows top to bottom, left to right within a row.

    A box joins a row when it overlaps the row's vertical extent by more than half of the
    smaller height, which keeps slightly uneven baselines (a skew residue) in one row.
    """
    items = []
    for i, box in enumerate(boxes):
        ys = [p[1] for p in box]
        xs = [p[0] for p in box]
        items.append((min(ys), max(ys), min(xs), i))
    items.sort()
    rows: list[list[tuple[float, float, float, int]]] = []
    for item in items:
        top, bottom = item[0], item[1]
        if rows:
            row = rows[-1]
            r_top, r_bottom = min(x[0] for x in row), max(x[1] for x in row)
            overlap = min(bottom, r_bottom) - max(top, r_top)
            if overlap > 0.5 * min(bottom - top, r_bottom - r_top):
                row.append(item)
                continue
        rows.append([item])
    return [item[3] for row in rows for item in sorted(row, key=lambda x: x[2])]
