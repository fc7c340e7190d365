"""Templates (elements, labels, assembly rules) and the fee schedule, without servers."""

from __future__ import annotations

import io
from datetime import date

import docx
import pytest

from litigation.docx import render
from litigation.domain.documents import (
    MissingElement,
    TemplateError,
    assemble,
    load_templates,
    parse_template,
)
from litigation.domain.fees import acceptance_fee


@pytest.mark.parametrize(
    ("yuan", "fee_yuan"),
    [
        (0, 50),  # non-property
        (5_000, 50),
        (10_000, 50),
        (100_000, 2_300),
        (200_000, 4_300),
        (500_000, 8_800),
        (1_000_000, 13_800),
        (2_000_000, 22_800),
        (5_000_000, 46_800),
        (10_000_000, 81_800),
        (20_000_000, 141_800),
        (30_000_000, 191_800),
    ],
)
def test_acceptance_fee_schedule(yuan: int, fee_yuan: int) -> None:
    fee, basis = acceptance_fee(yuan * 100)
    assert fee == fee_yuan * 100, basis


def test_fee_rounds_to_the_fen() -> None:
    fee, _ = acceptance_fee(10_000_01)  # 10,000.01 yuan: 50 + 0.01 * 2.5% -> 50.00
    assert fee == 50_00
    with pytest.raises(ValueError):
        acceptance_fee(-1)


def test_shipped_templates_load() -> None:
    ts = load_templates()
    assert {"summons", "acceptance_notice", "mediation_agreement"} <= set(ts)
    assert ts["summons"].elements["hearing_place"].label == "应到处所"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"name": "x", "title": "t", "sections": [{"paragraphs": ["{nope}"]}]}, "not an element"),
        (
            {
                "name": "x",
                "title": "t",
                "elements": [{"name": "a", "value": "1"}, {"name": "a", "value": "2"}],
            },
            "defined twice",
        ),
        ({"name": "x", "title": "t", "elements": [{"name": "a"}]}, "exactly one of source, value"),
        (
            {
                "name": "x",
                "title": "t",
                "elements": [{"name": "a", "value": "1", "format": "roman"}],
            },
            "format",
        ),
        ({"name": "x", "title": "t", "sections": [{"when": {"maybe": "a"}}]}, "bad rule"),
        ({"name": "x", "title": "t", "header": ["ghost"]}, "unknown element"),
        ({"name": "X Y", "title": "t"}, "'name'"),
        ({"name": "x", "title": "t", "inputs": ["weather"]}, "inputs"),
    ],
)
def test_template_errors_name_the_place(doc: dict, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        parse_template(doc, "bad.json")


def test_assembly_rules_and_rendering() -> None:
    t = parse_template(
        {
            "name": "probe",
            "title": "测试文书",
            "elements": [
                {"name": "who", "label": "当事人", "source": "recipient.name", "required": True},
                {"name": "amount", "label": "金额", "source": "fee.amount_fen", "format": "yuan"},
                {"name": "court_name", "label": "法院", "source": "court.name"},
            ],
            "header": ["who", "amount"],
            "sections": [
                {
                    "heading": "A",
                    "paragraphs": [
                        {"text": "online {who}", "when": {"equals": ["mode", "online"]}},
                        {"text": "in person", "when": {"not": {"equals": ["mode", "online"]}}},
                        {"for_each": "claims", "as": "c", "text": "{c.n}: {c.text}"},
                    ],
                },
                {
                    "heading": "B",
                    "when": {
                        "all": [
                            {"present": "fee"},
                            {"any": [{"equals": ["x", 1]}, {"present": "recipient"}]},
                        ]
                    },
                    "paragraphs": ["fee {amount}"],
                },
                {"heading": "C", "when": {"present": "nothing"}, "paragraphs": ["never"]},
            ],
            "closing": ["{court_name}"],
        },
        "probe.json",
    )
    data = {
        "court": {"name": "北京互联网法院"},
        "recipient": {"name": "A & <B> 公司"},
        "fee": {"amount_fen": 123456},
        "mode": "online",
        "claims": [{"text": "one"}, {"text": "two"}],
        "today": date(2030, 1, 2),
    }
    a = assemble(t, data)
    assert a.sections[0]["paragraphs"] == ["online A & <B> 公司", "1: one", "2: two"]
    assert [s["heading"] for s in a.sections] == ["A", "B"]
    assert a.fields == [
        {"label": "当事人", "value": "A & <B> 公司"},
        {"label": "金额", "value": "1,234.56元"},
    ]
    d = docx.Document(io.BytesIO(render(a, subject="probe")))
    text = "\n".join(p.text for p in d.paragraphs)
    assert "online A & <B> 公司" in text and "never" not in text and "in person" not in text
    assert d.tables[0].rows[1].cells[1].text == "1,234.56元"
    assert d.core_properties.title == "测试文书"
    with pytest.raises(MissingElement) as exc:
        assemble(t, {**data, "recipient": None})
    assert exc.value.element == "who"
