"""Rendering assembled documents into .docx with docxtpl.

One layout serves every template: a docxtpl template built once with python-docx
(court name, title, a two-column table of labelled elements, sections of paragraphs,
closing lines). The JSON templates decide the content; this decides the look.
"""

from __future__ import annotations

import io
from functools import lru_cache

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from docxtpl import DocxTemplate

from litigation.domain.documents import Assembled


@lru_cache(maxsize=1)
def layout() -> bytes:
    doc = Document()
    doc.core_properties.author = "courtcloud litigation"

    def para(text: str, *, bold: bool = False, size: int | None = None, align: int | None = None):
        p = doc.add_paragraph()
        run = p.add_run(text)
        run.bold = bold
        if size:
            run.font.size = Pt(size)
        if align is not None:
            p.alignment = align
        return p

    para("{{ court_name }}", bold=True, size=16, align=WD_ALIGN_PARAGRAPH.CENTER)
    para("{{ title }}", bold=True, size=22, align=WD_ALIGN_PARAGRAPH.CENTER)
    table = doc.add_table(rows=3, cols=2)
    table.style = "Table Grid"
    table.cell(0, 0).merge(table.cell(0, 1)).paragraphs[0].add_run("{%tr for f in fields %}")
    table.cell(1, 0).paragraphs[0].add_run("{{ f.label }}").bold = True
    table.cell(1, 1).paragraphs[0].add_run("{{ f.value }}")
    table.cell(2, 0).merge(table.cell(2, 1)).paragraphs[0].add_run("{%tr endfor %}")
    para("{%p for s in sections %}")
    para("{%p if s.heading %}")
    para("{{ s.heading }}", bold=True, size=14)
    para("{%p endif %}")
    para("{%p for text in s.paragraphs %}")
    para("{{ text }}")
    para("{%p endfor %}")
    para("{%p endfor %}")
    para("{%p for line in closing %}")
    para("{{ line }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    para("{%p endfor %}")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def render(doc: Assembled, *, subject: str) -> bytes:
    tpl = DocxTemplate(io.BytesIO(layout()))
    tpl.render(
        {
            "court_name": doc.court_name,
            "title": doc.title,
            "fields": doc.fields,
            "sections": doc.sections,
            "closing": doc.closing,
        },
        autoescape=True,
    )
    props = tpl.docx.core_properties
    props.title = doc.title
    props.subject = subject
    props.author = doc.court_name or "courtcloud litigation"
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()
