"""What an independent examination found, each with the test that failed before its fix:
court staff stay in their court, registered claims have their types, only a judge of the
court can be made a judge, a chain failure is never reported as a tampered file, and a
download's digest is that of the bytes served."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from courtcloud.testing.postgres import PostgresServer
from litigation_testkit import COURT, Caller, pdf


def problem(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code, body
    return body


@pytest.fixture
def case(people) -> dict:
    from litigation_testkit import filing

    p = people["plaintiff"]
    r = p.post("/v1/cases", json=filing(p.sub))
    assert r.status_code == 201, r.text
    return r.json()


# -- 5. court staff act in their own court only ---------------------------------------------
@pytest.fixture
def other_court_staff(court, people) -> dict[str, Caller]:
    """A judge and a clerk of another court, from the same identity provider."""
    tag = people["judge"].sub.rsplit("-", 1)[1]
    out = {}
    for role in ("judge", "clerk"):
        c = court.as_(f"{role}-elsewhere-{tag}", role)
        c.http.headers["Authorization"] = "Bearer " + court.issuer.mint(
            c.sub, [role], court="京0105-chaoyang")
        out[role] = c
    return out


STAFF_ACTIONS = [
    ("GET", "/v1/cases/{id}", None),
    ("GET", "/v1/cases/{id}/files", None),
    ("GET", "/v1/cases/{id}/audit", None),
    ("GET", "/v1/cases", None),
    ("POST", "/v1/cases/{id}/decision", {"decision": "accept"}),
    ("POST", "/v1/cases/{id}/decision", {"decision": "reject", "reason": "不属于本院管辖"}),
]


@pytest.mark.parametrize("role", ["judge", "clerk"])
@pytest.mark.parametrize(("method", "path", "body"), STAFF_ACTIONS)
def test_staff_of_another_court_can_do_nothing_here(court, case, other_court_staff, role,
                                                    method, path, body) -> None:
    caller = other_court_staff[role]
    r = caller.http.request(method, path.format(id=case["id"]), json=body)
    p = problem(r, 403, "auth.wrong_court")
    assert "京0105-chaoyang" in p["detail"] and COURT in p["detail"]
    got = court.sql("SELECT status, judge_subject FROM cases WHERE id = :id", id=case["id"])
    assert got == [("filed", None)]  # nothing was decided, nobody became its judge


def test_staff_tokens_without_a_court_are_refused(court, case, people) -> None:
    for role in ("judge", "clerk"):
        token = court.issuer.mint(f"{role}-nowhere", [role], court=None)
        r = httpx.get(f"{court.url}/v1/cases/{case['id']}",
                      headers={"Authorization": f"Bearer {token}"})
        p = problem(r, 401, "auth.missing_claim")
        assert "'court'" in p["detail"]
    # a court claim of the wrong type is no court
    token = court.issuer.mint("judge-typed", ["judge"], court=491)
    r = httpx.get(f"{court.url}/v1/cases", headers={"Authorization": f"Bearer {token}"})
    problem(r, 401, "auth.missing_claim")


def test_staff_of_this_court_and_parties_of_any_court_still_work(court, case, people) -> None:
    assert people["judge"].get(f"/v1/cases/{case['id']}").status_code == 200
    # a staff member of several courts, this one among them
    token = court.issuer.mint("clerk-two-courts", ["clerk"], court=["京0105-chaoyang", COURT])
    r = httpx.get(f"{court.url}/v1/cases/{case['id']}",
                  headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    # a litigant's court claim (if any) says nothing about staff rights: not checked
    token = court.issuer.mint(people["plaintiff"].sub, ["litigant"], court="京0105-chaoyang")
    r = httpx.get(f"{court.url}/v1/cases/{case['id']}",
                  headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text


# -- 6. registered claims with their types --------------------------------------------------
@pytest.mark.parametrize(("claim", "value"), [
    ("exp", "9999999999"), ("exp", True), ("iat", "0"), ("nbf", [0]), ("jti", 42),
    ("aud", ["courtcloud-litigation", 7]),
])
def test_registered_claims_must_have_their_types(court, claim, value) -> None:
    token = court.issuer.mint("typed", ["litigant"], **{claim: value})
    r = httpx.get(f"{court.url}/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, (claim, value, r.text)
    assert r.json()["code"] == "auth.malformed_claim", r.json()
    assert f"'{claim}'" in r.json()["detail"]


# -- 7. only a judge of the court can be made a judge ---------------------------------------
def test_a_clerk_cannot_make_just_anyone_the_judge(court, case, people) -> None:
    clerk, plaintiff = people["clerk"], people["plaintiff"]
    for subject, words in ((plaintiff.sub, "not a judge of this court"),
                           ("never-seen-subject", "never signed in")):
        r = clerk.post(f"/v1/cases/{case['id']}/decision",
                       json={"decision": "accept", "judge_subject": subject})
        p = problem(r, 422, "decision.unknown_judge")
        assert words in p["detail"] and p["errors"][0]["field"] == "judge_subject"
        assert court.sql("SELECT status FROM cases WHERE id = :id", id=case["id"]) == [
            ("filed",)]
    r = clerk.post(f"/v1/cases/{case['id']}/decision",
                   json={"decision": "accept", "judge_subject": people["judge"].sub})
    assert r.status_code == 200 and r.json()["judge_subject"] == people["judge"].sub


def test_the_roster_when_the_court_keeps_one(make_settings, people) -> None:
    from litigation_testkit import Served, filing

    from litigation.app import create_app

    judge = people["judge"]
    settings = make_settings(judges=("judge-on-roster",))
    served = Served(create_app(settings, access_log=False), "litigation-roster").start()
    try:
        def as_(c: Caller) -> httpx.Client:
            return httpx.Client(base_url=served.url, timeout=30,
                                headers={"Authorization": f"Bearer {c.token}"})

        with as_(people["plaintiff"]) as p, as_(people["clerk"]) as clerk:
            cid = p.post("/v1/cases", json=filing(people["plaintiff"].sub)).json()["id"]
            with as_(judge) as j:  # a judge account, but not on this court's roster
                assert j.get("/v1/accounts/me").status_code == 200
            r = clerk.post(f"/v1/cases/{cid}/decision",
                           json={"decision": "accept", "judge_subject": judge.sub})
            assert "roster" in problem(r, 422, "decision.unknown_judge")["detail"]
            r = clerk.post(f"/v1/cases/{cid}/decision",
                           json={"decision": "accept", "judge_subject": "judge-on-roster"})
            assert r.status_code == 200, r.text
    finally:
        served.stop()


# -- 8. a chain failure is not a tampered file ----------------------------------------------
def chain_db(postgres_server: PostgresServer) -> str:
    (name,) = postgres_server.psql(
        "SELECT datname FROM pg_database WHERE datname LIKE 'chain_for_litigation_%'"
    ).split()
    return name


def test_a_chain_failure_is_reported_as_such(court, case, people, postgres_server) -> None:
    p = people["plaintiff"]
    first = p.upload(case["id"], pdf("first")).json()
    p.upload(case["id"], pdf("second"))  # so that leaf `first` has a sibling on its path
    sibling = first["chain_leaf_index"] ^ 1
    db = chain_db(postgres_server)
    saved = postgres_server.psql(
        f"SELECT encode(hash, 'hex') FROM tree_nodes WHERE level = 0 AND idx = {sibling}", db
    ).strip()
    postgres_server.psql(f"DELETE FROM tree_nodes WHERE level = 0 AND idx = {sibling}", db)
    try:
        check = p.post(f"/v1/evidence/{first['storage_number']}/verification").json()
    finally:
        postgres_server.psql(
            f"INSERT INTO tree_nodes VALUES (0, {sibling}, '\\x{saved}')", db
        )
    assert check["file_intact"] is True  # the file is as filed...
    assert check["chain_verified"] is False
    assert check["failure"]["code"] == "chain.inconsistent", check  # ...the chain is not
    assert "tree_node_missing" in check["failure"]["detail"]
    assert "not judged" in check["failure"]["detail"]
    again = p.post(f"/v1/evidence/{first['storage_number']}/verification").json()
    assert again["chain_verified"] is True and again["failure"] is None


def test_an_altered_chain_entry_is_not_blamed_on_the_file(court, case, people,
                                                          postgres_server) -> None:
    p = people["plaintiff"]
    ev = p.upload(case["id"], pdf("kept")).json()
    db = chain_db(postgres_server)
    saved = postgres_server.psql(
        f"SELECT encode(submitter::bytea, 'escape') FROM evidence"
        f" WHERE storage_number = '{ev['storage_number']}'", db).strip()
    postgres_server.psql(f"UPDATE evidence SET submitter = 'someone else'"
                         f" WHERE storage_number = '{ev['storage_number']}'", db)
    try:
        check = p.post(f"/v1/evidence/{ev['storage_number']}/verification").json()
    finally:
        postgres_server.psql(f"UPDATE evidence SET submitter = '{saved}'"
                             f" WHERE storage_number = '{ev['storage_number']}'", db)
    assert check["file_intact"] is True
    assert check["failure"]["code"] == "chain.inconsistent", check
    assert "leaf_altered" in check["failure"]["detail"]


# -- 9. the download's digest is that of the bytes served -----------------------------------
def test_a_file_changed_in_storage_is_not_served_as_filed(court, case, people) -> None:
    p = people["plaintiff"]
    original = pdf("as filed")
    ev = p.upload(case["id"], original).json()
    r = p.get(f"/v1/files/{ev['id']}/content")
    assert r.content == original
    assert r.headers["X-Content-SM3"] == hashlib.new("sm3", r.content).hexdigest() == ev["sm3"]
    key = f"cases/{case['id']}/evidence/{ev['id']}"
    court.s3.client.put_object(Bucket="court-files", Key=key, Body=pdf("swapped"))
    r = p.get(f"/v1/files/{ev['id']}/content")
    body = problem(r, 409, "file.altered_in_storage")
    assert ev["sm3"] in body["detail"]
    assert b"swapped" not in r.content
