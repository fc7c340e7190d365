"""Authorization per role and per case: a litigant sees only their own cases."""

from __future__ import annotations

import uuid

from litigation_testkit import filing, pdf


def test_a_litigant_sees_only_their_cases(court, people) -> None:
    p, stranger, public = people["plaintiff"], people["stranger"], people["public"]
    mine = p.post("/v1/cases", json=filing(p.sub)).json()
    theirs = stranger.post("/v1/cases", json=filing(stranger.sub)).json()
    listed = {c["id"] for c in p.get("/v1/cases").json()["items"]}
    assert mine["id"] in listed and theirs["id"] not in listed
    # another party's case answers exactly like a case that does not exist
    a = p.get(f"/v1/cases/{theirs['id']}")
    b = p.get(f"/v1/cases/{uuid.uuid4()}")
    assert a.status_code == b.status_code == 404
    assert a.json()["code"] == b.json()["code"] == "case.not_found"
    assert theirs["parties"][0]["name"] not in a.text
    for path in ("files", "hearings", "documents", "services", "payments"):
        assert p.get(f"/v1/cases/{theirs['id']}/{path}").status_code == 404, path
    # nor can they write to it, and nothing is written
    before = court.count("files"), court.count("audit_events"), len(court.s3.keys())
    assert p.upload(theirs["id"], pdf()).status_code == 404
    fee = theirs["fees"][0]
    r = p.post(
        f"/v1/cases/{theirs['id']}/payments",
        json={
            "fee_id": fee["id"],
            "amount_fen": fee["amount_fen"],
            "channel": "alipay",
            "transaction_reference": "ALI-000001",
        },
    )
    assert r.status_code == 404
    assert (court.count("files"), court.count("audit_events"), len(court.s3.keys())) == before
    # the public role files nothing and sees no case
    assert public.post("/v1/cases", json=filing()).status_code == 403
    assert public.get("/v1/cases").json() == {"items": [], "total": 0}
    assert public.get(f"/v1/cases/{mine['id']}").status_code == 404


def test_party_accounts_and_lawyers_see_the_case(court, people) -> None:
    p, d, lawyer, stranger = (people[k] for k in ("plaintiff", "defendant", "lawyer", "stranger"))
    case = p.post(
        "/v1/cases", json=filing(p.sub, defendant_sub=d.sub, lawyer_sub=lawyer.sub)
    ).json()
    for who in (d, lawyer):
        assert who.get(f"/v1/cases/{case['id']}").status_code == 200
        assert case["id"] in {c["id"] for c in who.get("/v1/cases").json()["items"]}
    assert stranger.get(f"/v1/cases/{case['id']}").status_code == 404
    # a lawyer may file for a client; the filer sees the case
    filed = lawyer.post("/v1/cases", json=filing(None, lawyer_sub=lawyer.sub))
    assert filed.status_code == 201
    assert lawyer.get(f"/v1/cases/{filed.json()['id']}").status_code == 200


def test_roles_decide_what_can_be_done(court, people) -> None:
    p, clerk, judge, mediator = (people[k] for k in ("plaintiff", "clerk", "judge", "mediator"))
    cid = p.post("/v1/cases", json=filing(p.sub)).json()["id"]
    r = p.post(f"/v1/cases/{cid}/decision", json={"decision": "accept"})
    assert r.status_code == 403 and r.json()["code"] == "auth.role_required"
    assert "clerk or judge" in r.json()["detail"]
    assert clerk.post("/v1/cases", json=filing()).status_code == 403  # the court does not sue
    assert judge.get(f"/v1/cases/{cid}").status_code == 200  # staff see every case
    assert mediator.get(f"/v1/cases/{cid}").status_code == 404  # not their mediation
    assert p.get("/v1/reports/service-delivery").status_code == 403
    assert p.get("/v1/accounts").status_code == 403
    mediators = clerk.get("/v1/accounts", params={"role": "mediator"}).json()
    assert mediator.sub in {a["subject"] for a in mediators}
    r = clerk.post(f"/v1/cases/{cid}/mediations", json={"mediator_subject": p.sub})
    assert r.status_code == 422 and r.json()["code"] == "mediation.unknown_mediator"
