"""The case search index: Chinese and English, long and short queries, page numbers."""

# ruff: noqa: RUF001 - Chinese full-width punctuation is meant
from __future__ import annotations

from pathlib import Path

from ocr.store.index import CaseIndex


def test_search_finds_pages(tmp_path: Path) -> None:
    index = CaseIndex(tmp_path / "i.sqlite3")
    index.add_document("2019-0491-12345", "judgment.pdf", [
        (1, "北京互联网法院民事判决书\n原告张某某与被告某网络科技有限公司"),
        (2, "The court finds that the electronic evidence is authentic."),
        (3, "案件受理费一千零五十元，由被告负担。"),
    ])
    index.add_document("2019-0491-99999", "other.pdf", [(1, "原告李某 electronic evidence")])

    hits = index.search("2019-0491-12345", "网络科技")
    assert [(h.document, h.page) for h in hits] == [("judgment.pdf", 1)]
    assert "[网络科技]" in hits[0].snippet
    assert [h.page for h in index.search("2019-0491-12345", "electronic evidence")] == [2]
    assert [h.page for h in index.search("2019-0491-12345", "被告")] == [1, 3]  # 2 chars
    assert index.search("2019-0491-12345", "原告李某") == []  # other case
    assert index.search("2019-0491-12345", 'say "hi"') == []  # quotes are escaped
    assert index.search("2019-0491-12345", "100%") == []
    assert index.pages("2019-0491-12345") == [("judgment.pdf", p) for p in (1, 2, 3)]


def test_reindexing_replaces_a_document(tmp_path: Path) -> None:
    index = CaseIndex(tmp_path / "i.sqlite3")
    index.add_document("c1", "a.pdf", [(1, "first version"), (2, "second page")])
    index.add_document("c1", "a.pdf", [(1, "revised version")])
    assert index.pages("c1") == [("a.pdf", 1)]
    assert index.search("c1", "first") == []
    # the schema survives reopening
    assert [h.page for h in CaseIndex(tmp_path / "i.sqlite3").search("c1", "revised")] == [1]
