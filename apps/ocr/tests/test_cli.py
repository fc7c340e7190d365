"""The batch command: a directory of case files in, JSON and text out, index written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ocr.cli import main
from ocr.domain.quality import cer
from ocr.store.index import CaseIndex
from ocr.synth import SynthPage, pdf_bytes


def test_batch(tmp_path: Path, small_pages: list[SynthPage],
               capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in"
    src.mkdir()
    small_pages[0].image.save(src / "page.png")
    (src / "broken.pdf").write_bytes(pdf_bytes([small_pages[1].image])[:500])
    out, index = tmp_path / "out", tmp_path / "index.sqlite3"
    code = main([str(src), "--out", str(out), "--case", "c-1", "--index", str(index),
                 "--json"])
    assert code == 1  # one document refused
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["documents"] == 1 and summary["pages"] == 1
    assert summary["refused"][0]["code"] == "pdf-unreadable"
    assert cer(small_pages[0].text, (out / "page.txt").read_text(encoding="utf-8")) < 0.02
    data = json.loads((out / "page.json").read_text(encoding="utf-8"))
    assert data["pages"][0]["lines"]
    assert CaseIndex(index).pages("c-1") == [("page.png", 1)]


def test_case_needs_index(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as err:
        main([str(tmp_path), "--out", str(tmp_path / "o"), "--case", "c"])
    assert err.value.code == 2
