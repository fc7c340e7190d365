from __future__ import annotations

from litigation_testkit import filing


def test_file_and_read(court, people) -> None:
    p = people["plaintiff"]
    r = p.post("/v1/cases", json=filing(p.sub))
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["status"] == "filed"
    r = p.get(f"/v1/cases/{case['id']}")
    assert r.status_code == 200
