"""Accuracy floors on generated court pages, Chinese and English, in every condition."""

from __future__ import annotations

import random

import pytest
from ocr.domain.pipeline import OcrPipeline
from ocr.domain.quality import cer
from ocr.synth import SynthPage, make_page, noise


def test_small_pages(pipeline: OcrPipeline, small_pages: list[SynthPage]) -> None:
    for page in small_pages:
        result = pipeline.recognise(page.image)
        assert result.orientation == page.rotation, page.name
        assert cer(page.text, result.text) < 0.02, (page.name, result.text)
        # reading order: lines come top to bottom
        tops = [line.bbox[1] for line in result.lines]
        assert tops == sorted(tops)
        assert all(0 <= line.confidence <= 1 for line in result.lines)
        assert result.black_edges_removed == ("edges" in page.tags)


def test_line_boxes_match_the_text_layout(pipeline: OcrPipeline,
                                          small_pages: list[SynthPage]) -> None:
    page = small_pages[0]
    result = pipeline.recognise(page.image)
    assert len(result.lines) == len(page.lines)
    for line in result.lines:
        x0, y0, x1, y1 = line.bbox
        assert 0 <= x0 < x1 <= result.width and 0 <= y0 < y1 <= result.height
        assert x1 - x0 > y1 - y0  # horizontal lines


def test_blank_page_gives_no_lines(pipeline: OcrPipeline) -> None:
    from PIL import Image

    result = pipeline.recognise(Image.new("RGB", (600, 800), "white"))
    assert result.lines == [] and result.text == ""


def test_unreadable_scribble_is_flagged_not_dropped(pipeline: OcrPipeline) -> None:
    """A page drowned in noise still returns its lines, flagged as low confidence."""
    rng = random.Random(5)
    page = make_page(rng, "clean", "scribble", size=(900, 400), n_sentences=2)
    img = noise(page.image, rng, sigma=110.0)
    result = pipeline.recognise(img)
    flagged = [line for line in result.lines if line.low_confidence]
    assert all(line.confidence < 0.80 for line in flagged)
    assert len(flagged) == sum(line.confidence < 0.80 for line in result.lines)
    assert result.to_dict()["low_confidence_lines"] == [line.order for line in flagged]


@pytest.mark.slow
def test_corpus_accuracy_floors(pipeline: OcrPipeline, corpus: list[SynthPage]) -> None:
    """The generated corpus: mean CER under 1%, no page over 3%, orientation all right."""
    rates = {}
    for page in corpus:
        result = pipeline.recognise(page.image)
        assert result.orientation == page.rotation, page.name
        rates[page.name] = cer(page.text, result.text)
    assert max(rates.values()) < 0.03, rates
    assert sum(rates.values()) / len(rates) < 0.01, rates


@pytest.mark.slow
@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_every_quarter_turn_is_undone(pipeline: OcrPipeline, degrees: int) -> None:
    from ocr.synth import render_page, rotate_quarter

    img, lines = render_page(random.Random(degrees), size=(900, 700), n_sentences=3)
    result = pipeline.recognise(rotate_quarter(img, degrees))
    assert result.orientation == degrees
    assert cer("\n".join(lines), result.text) < 0.02
