"""Uploads to pages: formats, limits and damaged files."""

from __future__ import annotations

import io

import pytest
from ocr.domain import documents
from ocr.domain.errors import InputRejected
from ocr.synth import pdf_bytes
from PIL import Image

LIMITS = documents.Limits(max_bytes=5_000_000, max_pages=3, max_pixels=20_000_000, pdf_dpi=100)


def _image(fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt,kind", [("PNG", "png"), ("JPEG", "jpeg"), ("TIFF", "tiff")])
def test_images_are_one_page(fmt: str, kind: str) -> None:
    data = _image(fmt)
    assert documents.sniff(data) == kind
    pages = list(documents.iter_pages(data, LIMITS))
    assert len(pages) == 1 and pages[0].mode == "RGB" and pages[0].size == (200, 100)


def test_multipage_tiff_and_pdf() -> None:
    frames = [Image.new("L", (120, 80), v) for v in (255, 200)]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:])
    assert len(list(documents.iter_pages(buf.getvalue(), LIMITS))) == 2
    pdf = pdf_bytes([Image.new("RGB", (300, 400), "white")] * 2, dpi=150)
    pages = list(documents.iter_pages(pdf, LIMITS))
    assert len(pages) == 2
    assert pages[0].size == (200, 267)  # 300 px at 150 dpi rendered at 100 dpi


def test_palette_and_alpha_images_become_white_rgb() -> None:
    buf = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(buf, "PNG")
    page = next(documents.iter_pages(buf.getvalue(), LIMITS))
    assert page.getpixel((5, 5)) == (255, 255, 255)


@pytest.mark.parametrize("data,code,status", [
    (b"", "empty-file", 422),
    (b"hello, this is a text file", "unsupported-media-type", 415),
    (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", "pdf-unreadable", 422),
])
def test_bad_files_are_refused_with_a_code(data: bytes, code: str, status: int) -> None:
    with pytest.raises(InputRejected) as err:
        list(documents.iter_pages(data, LIMITS))
    assert err.value.code == code and err.value.status == status
    assert err.value.detail


def test_truncated_files() -> None:
    png = _image("PNG")
    with pytest.raises(InputRejected) as err:
        list(documents.iter_pages(png[: len(png) // 2], LIMITS))
    assert err.value.code == "image-unreadable"
    pdf = pdf_bytes([Image.new("RGB", (300, 400), "white")])
    with pytest.raises(InputRejected) as err:
        list(documents.iter_pages(pdf[: len(pdf) // 2], LIMITS))
    assert err.value.code == "pdf-unreadable"


def test_limits() -> None:
    pdf = pdf_bytes([Image.new("RGB", (50, 50), "white")] * 4)
    with pytest.raises(InputRejected) as err:
        list(documents.iter_pages(pdf, LIMITS))
    assert (err.value.code, err.value.status) == ("too-many-pages", 413)
    small = documents.Limits(max_bytes=100, max_pages=3, max_pixels=10_000, pdf_dpi=100)
    with pytest.raises(InputRejected) as err:
        list(documents.iter_pages(b"x" * 101, small))
    assert err.value.code == "file-too-large"
    big = io.BytesIO()
    Image.new("1", (2000, 2000)).save(big, "PNG")
    tiny = documents.Limits(max_bytes=10**6, max_pages=3, max_pixels=1_000_000, pdf_dpi=100)
    with pytest.raises(InputRejected) as err:
        list(documents.iter_pages(big.getvalue(), tiny))
    assert (err.value.code, err.value.status) == ("image-too-large", 413)


def test_a_pdf_with_no_pages_is_pdf_empty_not_unreadable() -> None:
    """PDFium refuses to open an empty page tree ("PDFium: Success"); the answer must still
    say what is wrong with the file."""
    import pypdfium2 as pdfium

    out = io.BytesIO()
    pdfium.PdfDocument.new().save(out)
    with pytest.raises(InputRejected) as err:
        list(documents.iter_pages(out.getvalue(), LIMITS))
    assert err.value.code == "pdf-empty" and "Success" not in err.value.detail
    # an empty page tree written by another producer, with spaces and the keys reordered
    other = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
             b"2 0 obj << /Type /Pages /Kids [ ] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n"
             b"%%EOF\n")
    with pytest.raises(InputRejected) as err:
        list(documents.iter_pages(other, LIMITS))
    assert err.value.code == "pdf-empty"
    # a damaged PDF that does have pages is still unreadable, not empty
    damaged = pdf_bytes([Image.new("RGB", (300, 400), "white")])
    with pytest.raises(InputRejected) as err:
        list(documents.iter_pages(damaged[: len(damaged) // 2], LIMITS))
    assert err.value.code == "pdf-unreadable"
