"""Racing requests: the database keeps one truth (one hearing per slot, one payment)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from litigation_testkit import filing


def test_racing_hearings_for_one_judge_get_one_slot(court, people) -> None:
    p, clerk, judge = people["plaintiff"], people["clerk"], people["judge"]
    cases = []
    for _ in range(6):
        cid = p.post("/v1/cases", json=filing(p.sub)).json()["id"]
        clerk.post(
            f"/v1/cases/{cid}/decision", json={"decision": "accept", "judge_subject": judge.sub}
        )
        cases.append(cid)
    start = datetime(2033, 1, 10, 2, 0, tzinfo=UTC)
    body = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}
    with ThreadPoolExecutor(6) as pool:
        codes = list(
            pool.map(lambda c: clerk.post(f"/v1/cases/{c}/hearings", json=body).status_code, cases)
        )
    assert sorted(codes) == [201, 409, 409, 409, 409, 409]


def test_racing_payments_pay_once(court, people) -> None:
    p = people["plaintiff"]
    case = p.post("/v1/cases", json=filing(p.sub)).json()
    fee = case["fees"][0]

    def pay(i: int) -> int:
        return p.post(
            f"/v1/cases/{case['id']}/payments",
            json={
                "fee_id": fee["id"],
                "amount_fen": fee["amount_fen"],
                "channel": "unionpay",
                "transaction_reference": f"UP-RACE-{case['id'][:8]}-{i}",
            },
        ).status_code

    with ThreadPoolExecutor(5) as pool:
        codes = list(pool.map(pay, range(5)))
    assert sorted(codes) == [201, 409, 409, 409, 409]
    rows = court.sql("SELECT count(*) FROM payments WHERE case_id = :c", c=case["id"])
    assert rows[0][0] == 1


def test_racing_acceptances_give_distinct_case_numbers(court, people) -> None:
    p, clerk = people["plaintiff"], people["clerk"]
    ids = [p.post("/v1/cases", json=filing(p.sub)).json()["id"] for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        numbers = list(
            pool.map(
                lambda c: clerk.post(f"/v1/cases/{c}/decision", json={"decision": "accept"}).json()[
                    "case_number"
                ],
                ids,
            )
        )
    assert len(set(numbers)) == 8
