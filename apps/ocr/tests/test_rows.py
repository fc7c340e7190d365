"""Rows of a page: which boxes the reading order and the plain text keep on one line."""

from __future__ import annotations

from ocr.domain.results import Line, reading_order, text_of


def box(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def rows_of(boxes: list[list[list[float]]], texts: list[str]) -> list[str]:
    order = reading_order(boxes)
    lines = []
    for position, i in enumerate(order):
        xs = [p[0] for p in boxes[i]]
        ys = [p[1] for p in boxes[i]]
        lines.append(Line(position, texts[i], 0.9, boxes[i], [min(xs), min(ys), max(xs), max(ys)],
                          0, False))
    return text_of(lines).split("\n")


def test_a_signature_line_with_wide_gaps_stays_one_row():
    """A label, a long rule drawn just under its baseline, a small-type hint on the same
    baseline and a second label far to the right: one row, in reading order. Before, the
    thin rule (half of it below the label) and everything after it began new rows."""
    boxes = [box(100, 100, 260, 130),   # 原告签名 (label)
             box(270, 126, 620, 134),   # ____________ (a rule at the baseline)
             box(630, 118, 700, 129),   # 手写 (small type, same baseline)
             box(900, 101, 1060, 131),  # 日期 (label)
             box(1070, 125, 1300, 133)]  # ____________
    texts = ["原告签名", "____________", "手写", "日期", "____________"]
    assert rows_of(boxes, texts) == [" ".join(texts)]


def test_separate_lines_stay_separate_rows():
    # two ordinary lines, the second right under the first; a small subtitle under a large
    # title (it shares no baseline with it); a line whose top touches the previous bottom
    boxes = [box(100, 100, 900, 130), box(100, 140, 900, 170),
             box(300, 200, 700, 240), box(380, 238, 620, 248),
             box(100, 300, 900, 330), box(100, 330, 900, 360)]
    texts = ["line one", "line two", "TITLE", "subtitle", "line five", "line six"]
    assert rows_of(boxes, texts) == texts


def test_a_skewed_row_with_uneven_boxes_is_still_one_row():
    boxes = [box(100, 100, 300, 130), box(320, 106, 520, 136), box(540, 112, 740, 142)]
    assert rows_of(boxes, ["a", "b", "c"]) == ["a b c"]
