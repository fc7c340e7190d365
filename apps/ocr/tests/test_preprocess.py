"""Black-edge removal and deskew on generated pages (no models needed)."""

# ruff: noqa: RUF001 - Chinese full-width punctuation is meant
from __future__ import annotations

import random

import numpy as np
import pytest
from ocr.domain import preprocess
from ocr.domain.quality import cer, normalise, wer
from ocr.synth import black_edges, render_page, skew


@pytest.fixture(scope="module")
def page() -> np.ndarray:
    img, _ = render_page(random.Random(3), size=(900, 700), n_sentences=4)
    return np.asarray(img)


@pytest.mark.parametrize("angle", [-7.0, -3.5, -1.2, 0.0, 2.0, 4.5, 8.0])
def test_deskew_finds_the_angle(page: np.ndarray, angle: float) -> None:
    from PIL import Image

    tilted = np.asarray(skew(Image.fromarray(page), angle))
    found = preprocess.estimate_skew(tilted)
    assert found == pytest.approx(-angle, abs=0.3)
    level, applied = preprocess.deskew(tilted)
    assert abs(preprocess.estimate_skew(level)) <= 0.3
    assert applied == (0.0 if angle == 0 else found)


def test_blank_page_has_no_skew() -> None:
    assert preprocess.estimate_skew(np.full((300, 200, 3), 255, np.uint8)) == 0.0


def test_black_edges_are_removed(page: np.ndarray) -> None:
    from PIL import Image

    framed = np.asarray(black_edges(Image.fromarray(page), random.Random(1)))
    cleaned, removed = preprocess.remove_black_edges(framed)
    assert removed
    gray = preprocess.to_gray(cleaned)
    # no dark band left along any border
    for border in (gray[:5], gray[-5:], gray[:, :5], gray[:, -5:]):
        assert (border < 60).mean() < 0.01
    # the text itself is still there
    assert (gray < 128).sum() == pytest.approx((preprocess.to_gray(page) < 128).sum(), rel=0.05)


def test_clean_page_is_left_alone(page: np.ndarray) -> None:
    cleaned, removed = preprocess.remove_black_edges(page)
    assert not removed and cleaned is page


def test_quarter_turns_round_trip(page: np.ndarray) -> None:
    turned = preprocess.rotate_quarter(page, 90)
    assert turned.shape[:2] == page.shape[1::-1]
    assert np.array_equal(preprocess.rotate_quarter(turned, 270), page)


def test_error_rates() -> None:
    assert normalise("原告 ： 张三，  The  court") == "原告:张三, The court"
    assert cer("北京互联网法院", "北京互联网法院") == 0.0
    assert cer("北京互联网法院", "北京互联法院") == pytest.approx(1 / 7)
    assert wer("the court finds", "the court fines") == pytest.approx(1 / 3)
