"""Uploaded files: which types are accepted, and whether the bytes are what they claim."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# content type -> check of the first bytes (None: checked as text)
SIGNATURES: dict[str, tuple[bytes, ...] | None] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "video/mp4": (),  # 'ftyp' box at offset 4, checked below
    "audio/mpeg": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "text/plain": None,
}
ACCEPTED_TYPES = tuple(SIGNATURES)
FILENAME_OK = re.compile(r"^[^\x00-\x1f\x7f/\\]{1,255}$")


class BadUpload(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def check_filename(name: str) -> str:
    name = unicodedata.normalize("NFC", name).strip()
    if not FILENAME_OK.match(name) or name in (".", ".."):
        raise BadUpload(
            "upload.bad_filename",
            "filename: 1-255 characters, no path separators or control characters",
        )
    return name


def check_content(content_type: str, head: bytes) -> None:
    """Refuse bytes that do not start the way ``content_type`` files start."""
    sig = SIGNATURES.get(content_type, ())
    if content_type == "video/mp4":
        ok = len(head) >= 12 and head[4:8] == b"ftyp"
    elif sig is None:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # a multi-byte character may be cut at the end of the sample
            if exc.start < len(head) - 3:
                ok = False
            else:
                text = head[: exc.start].decode("utf-8")
                ok = "\x00" not in text
        else:
            ok = "\x00" not in text
    else:
        ok = any(head.startswith(s) for s in sig)
    if not ok:
        raise BadUpload(
            "upload.content_mismatch",
            f"the file's bytes are not a {content_type} file; send it with its real content type",
        )


class DigestingBuffer:
    """Collects an upload while computing its SM3 digest, refusing past a limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0
        self.sm3 = hashlib.new("sm3")

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise BadUpload("request.too_large", f"the file exceeds {self.limit} bytes")
        self.parts.append(chunk)
        self.sm3.update(chunk)

    def data(self) -> bytes:
        return b"".join(self.parts)
