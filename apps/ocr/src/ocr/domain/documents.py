"""Uploaded case files (PNG, JPEG, TIFF, PDF) to page images, within the configured limits."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import pypdfium2 as pdfium
from PIL import Image, UnidentifiedImageError

from .errors import InputRejected

MEDIA_TYPES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "tiff": "image/tiff",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pages: int
    max_pixels: int
    pdf_dpi: int


def sniff(data: bytes) -> str:
    """The file's kind from its first bytes, never from its name or claimed type."""
    if not data:
        raise InputRejected("empty-file", "The file is empty (0 bytes); upload the scanned page.")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    raise InputRejected(
        "unsupported-media-type",
        "The file is not a PNG, JPEG, TIFF or PDF (its first bytes match none of them).",
        status=415,
    )


def count_pages(data: bytes, limits: Limits) -> int:
    kind = sniff(data)
    if kind == "pdf":
        return len(_open_pdf(data))
    if kind == "tiff":
        with _open_image(data, limits) as img:
            return getattr(img, "n_frames", 1)
    return 1


def iter_pages(data: bytes, limits: Limits) -> Iterator[Image.Image]:
    """Every page as an RGB image, after checking size and page count."""
    if len(data) > limits.max_bytes:
        raise InputRejected(
            "file-too-large",
            f"The file has {len(data)} bytes; the limit is {limits.max_bytes}. Split it.",
            status=413,
        )
    kind = sniff(data)
    if kind == "pdf":
        yield from _pdf_pages(data, limits)
        return
    img = _open_image(data, limits)
    frames = getattr(img, "n_frames", 1)
    _check_pages(frames, limits)
    for index in range(frames):
        try:
            img.seek(index)
            img.load()
        except (OSError, SyntaxError, ValueError) as exc:
            raise InputRejected(
                "image-unreadable",
                f"Page {index + 1} of the {kind.upper()} file cannot be decoded ({exc}); "
                "the file may be truncated.",
            ) from exc
        yield _to_rgb(img)


def _check_pages(n: int, limits: Limits) -> None:
    if n > limits.max_pages:
        raise InputRejected(
            "too-many-pages",
            f"The file has {n} pages; the limit is {limits.max_pages}. Split it into parts.",
            status=413,
        )


def _open_image(data: bytes, limits: Limits) -> Image.Image:
    Image.MAX_IMAGE_PIXELS = limits.max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.width * img.height > limits.max_pixels:
                raise Image.DecompressionBombError("too many pixels")
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputRejected(
            "image-too-large",
            f"The image has more than {limits.max_pixels} pixels; scan at 300 dpi or less.",
            status=413,
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputRejected(
            "image-unreadable",
            f"The image cannot be decoded ({exc}); the file may be truncated or damaged.",
        ) from exc
    return img


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img.copy()
    if img.mode in ("RGBA", "LA", "P"):
        rgba = img.convert("RGBA")
        page = Image.new("RGB", rgba.size, "white")
        page.paste(rgba, mask=rgba.getchannel("A"))
        return page
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        return img.point(lambda v: v / 256).convert("L").convert("RGB")
    return img.convert("RGB")


# PDFium refuses to load a document whose page tree is empty ("Failed to load document
# (PDFium: Success)"), so an empty PDF is told apart from a damaged one by its page tree: a
# /Pages node that counts 0 and no /Page object anywhere.
_EMPTY_PAGE_TREE = re.compile(
    rb"/Type\s*/Pages\b[^>]*?/Count\s+0\b|/Count\s+0\b[^>]*?/Type\s*/Pages\b"
)
_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![s\w])")


def _open_pdf(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if _EMPTY_PAGE_TREE.search(data) and not _PAGE_OBJECT.search(data):
            raise InputRejected("pdf-empty", "The PDF has no pages.") from exc
        raise InputRejected(
            "pdf-unreadable",
            f"The PDF cannot be opened ({exc}); it may be truncated, damaged or encrypted.",
        ) from exc


def _pdf_pages(data: bytes, limits: Limits) -> Iterator[Image.Image]:
    pdf = _open_pdf(data)
    try:
        _check_pages(len(pdf), limits)
        if len(pdf) == 0:
            raise InputRejected("pdf-empty", "The PDF has no pages.")
        for index in range(len(pdf)):
            page = pdf[index]
            width, height = page.get_size()
            scale = limits.pdf_dpi / 72
            if width * height * scale * scale > limits.max_pixels:
                scale = (limits.max_pixels / (width * height)) ** 0.5
            try:
                bitmap = page.render(scale=scale)
                image = bitmap.to_pil().convert("RGB")
            except pdfium.PdfiumError as exc:
                raise InputRejected(
                    "pdf-unreadable", f"Page {index + 1} of the PDF cannot be rendered ({exc})."
                ) from exc
            finally:
                page.close()
            yield image
    finally:
        pdf.close()
