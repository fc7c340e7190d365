"""Hearing scheduling: conflicts for judges, rooms and parties, across cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litigation_testkit import filing

from litigation.domain.hearings import Slot, conflicts, overlaps

T0 = datetime(2032, 6, 1, 1, 0, tzinfo=UTC)


def accepted_case(people, judge_sub: str, **kw) -> dict:
    p = people["plaintiff"]
    case = p.post("/v1/cases", json=filing(p.sub, **kw)).json()
    r = people["clerk"].post(
        f"/v1/cases/{case['id']}/decision", json={"decision": "accept", "judge_subject": judge_sub}
    )
    assert r.status_code == 200
    return case


def slot(clerk, cid: str, start: datetime, hours: float = 2, **kw):
    body = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=hours)).isoformat()}
    body.update(kw)
    return clerk.post(f"/v1/cases/{cid}/hearings", json=body)


def test_judge_room_and_party_conflicts(court, people) -> None:
    clerk, judge = people["clerk"], people["judge"]
    t = T0 + timedelta(days=hash(judge.sub) % 300)  # a day of its own for this test
    a = accepted_case(people, judge.sub, defendant_id="91110000MA0000001X")
    b = accepted_case(people, judge.sub)
    others = [court.as_(f"{n}-{judge.sub}", "judge") for n in ("judge-other", "judge-third")]
    for o in others:  # judges of the court: they have signed in
        assert o.get("/v1/accounts/me").status_code == 200
    c = accepted_case(people, others[0].sub, defendant_id="91110000MA0000001X")
    d = accepted_case(people, others[1].sub)
    first = slot(clerk, a["id"], t, mode="in_person", room="第一法庭")
    assert first.status_code == 201, first.text
    # the same judge, overlapping
    r = slot(clerk, b["id"], t + timedelta(hours=1), mode="online")
    assert r.status_code == 409 and r.json()["code"] == "hearing.conflict"
    (x,) = r.json()["conflicts"]
    assert x["kind"] == "judge" and x["hearing_id"] == first.json()["id"]
    assert x["case_number"] == people["plaintiff"].get(f"/v1/cases/{a['id']}").json()["case_number"]
    # back to back is fine (half-open periods)
    assert slot(clerk, b["id"], t + timedelta(hours=2), mode="online").status_code == 201
    # another judge, but the same defendant (by its credit code) and the same room
    r = slot(clerk, c["id"], t + timedelta(minutes=30), mode="in_person", room="第一法庭")
    assert r.status_code == 409
    kinds = sorted(x["kind"] for x in r.json()["conflicts"])
    assert kinds == ["party", "room"]
    assert "room and the party" in r.json()["detail"] or "party and the room" in r.json()["detail"]
    # only the room
    r = slot(clerk, d["id"], t + timedelta(minutes=30), mode="in_person", room="第一法庭")
    assert [x["kind"] for x in r.json()["conflicts"]] == ["room"]
    assert (
        slot(
            clerk, d["id"], t + timedelta(minutes=30), mode="in_person", room="第二法庭"
        ).status_code
        == 201
    )
    # cancelling frees the judge, the room and the parties
    assert clerk.post(f"/v1/hearings/{first.json()['id']}/cancellation").status_code == 200
    assert slot(clerk, c["id"], t, mode="in_person", room="第一法庭").status_code == 201
    before = court.count("hearings")
    assert (
        slot(clerk, b["id"], t + timedelta(hours=2, minutes=30), mode="online").status_code == 409
    )
    assert court.count("hearings") == before
    assert (
        court.sql(
            "SELECT count(*) FROM audit_events WHERE action='hearing.scheduled' AND case_id=:c",
            c=b["id"],
        )[0][0]
        == 1
    )


def test_hearing_input(court, people) -> None:
    clerk, judge, p = people["clerk"], people["judge"], people["plaintiff"]
    case = accepted_case(people, judge.sub)
    cid = case["id"]
    assert slot(clerk, cid, T0, hours=-1).json()["code"] == "hearing.bad_period"
    assert slot(clerk, cid, T0, hours=13).json()["code"] == "hearing.too_long"
    assert slot(clerk, cid, T0, mode="in_person").json()["code"] == "hearing.room_required"
    naive = clerk.post(
        f"/v1/cases/{cid}/hearings",
        json={"starts_at": "2032-06-01T09:00:00", "ends_at": "2032-06-01T10:00:00"},
    )
    assert naive.status_code == 422  # a time without a zone is ambiguous
    assert slot(p, cid, T0).status_code == 403
    filed = p.post("/v1/cases", json=filing(p.sub)).json()
    assert slot(clerk, filed["id"], T0).json()["code"] == "hearing.case_not_accepted"


def test_public_calendar_shows_no_parties(court, people) -> None:
    clerk, judge = people["clerk"], people["judge"]
    case = accepted_case(people, judge.sub, plaintiff="公开日历原告")
    start = datetime.now(UTC) + timedelta(days=2, minutes=hash(judge.sub) % 1000)
    assert slot(clerk, case["id"], start, hours=0.5).status_code == 201
    cal = people["public"].get("/v1/public/hearings").json()
    number = clerk.get(f"/v1/cases/{case['id']}").json()["case_number"]
    assert number in {h["case_number"] for h in cal}
    assert "公开日历原告" not in str(cal)


def test_conflict_rules_unit() -> None:
    a, b = T0, T0 + timedelta(hours=1)
    assert overlaps(a, b, a + timedelta(minutes=59), b + timedelta(hours=1))
    assert not overlaps(a, b, b, b + timedelta(hours=1))
    mk = lambda hid, case, judge, room, people: Slot(  # noqa: E731
        hid, case, None, judge, room, a, b, frozenset(people)
    )
    proposed = mk("new", "c1", "j1", None, {"id:X"})
    # an online hearing (no room) never clashes on rooms; the same case's own parties do not
    assert conflicts(proposed, [mk("h", "c2", "j2", None, {"id:Y"})]) == []
    assert conflicts(proposed, [mk("h", "c1", "j2", "R", {"id:X"})]) == []
    assert [c.kind for c in conflicts(proposed, [mk("h", "c2", "j2", "R", {"id:X"})])] == ["party"]
