"""The whole online process of one case, end to end, against real PostgreSQL, S3 and
the real chain service."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from litigation_testkit import docx_text, filing, pdf

from litigation.store.db import head_revision


def test_filing_to_mediated_agreement(court, people) -> None:
    p, d, clerk, judge, mediator = (
        people[k] for k in ("plaintiff", "defendant", "clerk", "judge", "mediator")
    )
    # 1. filing: parties, claims, facts; the fee is assessed from the amount claimed
    r = p.post("/v1/cases", json=filing(p.sub, defendant_sub=d.sub, amount_fen=10_000_000))
    assert r.status_code == 201, r.text
    case = r.json()
    cid = case["id"]
    assert r.headers["Location"] == f"/v1/cases/{cid}"
    assert case["status"] == "filed" and case["case_number"] is None
    assert [x["name"] for x in case["parties"]] == ["张三", "北京某网络科技有限公司"]
    assert case["claim_total_fen"] == 10_000_000
    (fee,) = case["fees"]
    assert fee["amount_fen"] == 2_300_00 and fee["status"] == "due"  # 100,000 yuan -> 2,300

    # an attachment to the filing
    r = p.upload(
        cid, pdf("complaint"), purpose="attachments", title="起诉状", filename="起诉状.pdf"
    )
    assert r.status_code == 201, r.text
    assert r.json()["storage_number"] is None and r.json()["purpose"] == "attachment"

    # 2. the court accepts: a case number; the judge is assigned
    r = clerk.post(
        f"/v1/cases/{cid}/decision", json={"decision": "accept", "judge_subject": judge.sub}
    )
    assert r.status_code == 200, r.text
    accepted = r.json()
    year = datetime.now(UTC).year
    assert accepted["status"] == "accepted"
    assert accepted["case_number"].startswith(f"({year})京0491民初")
    assert accepted["judge_subject"] == judge.sub
    r = clerk.post(f"/v1/cases/{cid}/decision", json={"decision": "reject", "reason": "重复起诉"})
    assert r.status_code == 409 and r.json()["code"] == "decision.already_decided"

    # 3. payment, idempotent per transaction reference
    pay = {
        "fee_id": fee["id"],
        "amount_fen": 2_300_00,
        "channel": "wechat_pay",
        "transaction_reference": f"WX-{cid[:8]}",
    }
    r = p.post(f"/v1/cases/{cid}/payments", json=pay)
    assert r.status_code == 201, r.text
    r2 = p.post(f"/v1/cases/{cid}/payments", json=pay)
    assert r2.status_code == 200 and r2.json()["id"] == r.json()["id"]
    assert p.get(f"/v1/cases/{cid}").json()["fees"][0]["status"] == "paid"

    # 4. evidence: stored in S3, SM3 registered on the chain, storage number kept
    data = pdf("chat log")
    r = p.upload(cid, data, title="聊天记录", filename="chat.pdf")
    assert r.status_code == 201, r.text
    ev = r.json()
    assert ev["sm3"] == hashlib.new("sm3", data).hexdigest()
    sn = ev["storage_number"]
    assert sn and ev["chain_leaf_index"] is not None
    assert (
        court.s3.client.get_object(Bucket="court-files", Key=f"cases/{cid}/evidence/{ev['id']}")[
            "Body"
        ].read()
        == data
    )
    assert p.get(f"/v1/evidence/{sn}").json()["id"] == ev["id"]
    check = p.post(f"/v1/evidence/{sn}/verification").json()
    assert check["file_intact"] and check["chain_verified"], check
    assert p.get(f"/v1/files/{ev['id']}/content").content == data
    # the chain itself knows the digest under that storage number
    import httpx

    chain = httpx.post(
        f"{court.settings.chain_url}/v1/evidence/{sn}/verify", json={"digest": ev["sm3"]}
    ).json()
    assert chain["verified"] and chain["digest_matches"]

    # 5. the notice of acceptance, served on the plaintiff; receipt; delivery rate
    plaintiff_party, defendant_party = (x["id"] for x in case["parties"])
    r = clerk.post(
        f"/v1/cases/{cid}/documents",
        json={"template": "acceptance_notice", "party_id": plaintiff_party},
    )
    assert r.status_code == 201, r.text
    notice = r.json()
    text = docx_text(clerk.get(f"/v1/documents/{notice['id']}/content").content)
    for fact in (
        accepted["case_number"],
        "张三",
        "北京某网络科技有限公司",
        "网络购物合同纠纷",
        "受理案件通知书",
        "2,300.00元",
        "判令被告退还货款",
        "北京互联网法院",
        "李法官",
    ):
        assert fact in text, fact
    r = clerk.post(
        f"/v1/cases/{cid}/services",
        json={
            "document_id": notice["id"],
            "party_ids": [plaintiff_party, defendant_party],
            "channel": "platform",
        },
    )
    assert r.status_code == 201, r.text
    to_p, to_d = r.json()
    assert to_p["address"] == f"platform:{p.sub}" and to_p["status"] == "sent"
    r = p.post(f"/v1/services/{to_p['id']}/receipt", json={"status": "delivered"})
    assert r.status_code == 200 and r.json()["status"] == "delivered"
    r = p.post(f"/v1/services/{to_d['id']}/receipt", json={"status": "delivered"})
    assert r.status_code == 404  # not the recipient, and cannot tell it exists
    r = clerk.post(
        f"/v1/services/{to_d['id']}/receipt", json={"status": "failed", "detail": "账号停用"}
    )
    assert r.status_code == 200
    report = judge.get("/v1/reports/service-delivery").json()
    assert report["total"] >= 2 and 0 <= report["delivery_rate"] <= 1
    assert report["by_channel"]["platform"]["delivered"] >= 1

    # 6. a hearing, and the summons for it
    start = datetime(2031, 3, 3, 1, 30, tzinfo=UTC)  # 09:30 in Beijing
    r = clerk.post(
        f"/v1/cases/{cid}/hearings",
        json={
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            "mode": "in_person",
            "room": "第三法庭",
        },
    )
    assert r.status_code == 201, r.text
    hearing = r.json()
    assert hearing["judge_subject"] == judge.sub
    r = clerk.post(
        f"/v1/cases/{cid}/documents",
        json={"template": "summons", "hearing_id": hearing["id"], "party_id": defendant_party},
    )
    assert r.status_code == 201, r.text
    text = docx_text(clerk.get(f"/v1/documents/{r.json()['id']}/content").content)
    for fact in (
        "传票",
        accepted["case_number"],
        "北京某网络科技有限公司",
        "被告",
        "第三法庭",
        "2031年3月3日 09:30",
        "请携带本传票及身份证明",
        "北京市朝阳区",
        "李法官",
    ):
        assert fact in text, fact
    assert "在线开庭" not in text  # the online-hearing paragraph is left out

    # 7. mediation: a code; an agreement confirmed by both sides
    r = clerk.post(f"/v1/cases/{cid}/mediations", json={"mediator_subject": mediator.sub})
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    assert mediator.get(f"/v1/mediations/{code}").status_code == 200
    assert mediator.get(f"/v1/cases/{cid}").status_code == 200  # the mediator now sees it
    r = mediator.put(
        f"/v1/mediations/{code}/agreement",
        json={"terms": ["被告于十日内退还货款十万元", "原告放弃其他诉讼请求"]},
    )
    assert r.status_code == 200, r.text
    draft1 = r.json()["agreement"]
    assert (
        p.post(
            f"/v1/mediations/{code}/confirmations", json={"digest": draft1["digest"]}
        ).status_code
        == 200
    )
    # a redraft voids the confirmation; confirming the old text is refused
    r = mediator.put(
        f"/v1/mediations/{code}/agreement",
        json={"terms": ["被告于七日内退还货款十万元", "原告放弃其他诉讼请求"]},
    )
    draft2 = r.json()["agreement"]
    assert draft2["version"] == 2 and draft2["confirmed_sides"] == []
    r = d.post(f"/v1/mediations/{code}/confirmations", json={"digest": draft1["digest"]})
    assert r.status_code == 409 and r.json()["code"] == "mediation.agreement_changed"
    r = p.post(f"/v1/mediations/{code}/confirmations", json={"digest": draft2["digest"]})
    assert r.json()["status"] == "open"
    r = p.post(f"/v1/mediations/{code}/confirmations", json={"digest": draft2["digest"]})
    assert r.status_code == 409 and r.json()["code"] == "mediation.already_confirmed"
    r = d.post(f"/v1/mediations/{code}/confirmations", json={"digest": draft2["digest"]})
    assert r.status_code == 200 and r.json()["status"] == "agreed"
    assert r.json()["agreement"]["confirmed_sides"] == ["defendant", "plaintiff"]
    assert p.get(f"/v1/cases/{cid}").json()["status"] == "mediated"
    r = mediator.post(
        f"/v1/cases/{cid}/documents",
        json={"template": "mediation_agreement", "mediation_code": code},
    )
    assert r.status_code == 201, r.text
    text = docx_text(mediator.get(f"/v1/documents/{r.json()['id']}/content").content)
    for fact in (
        "调解协议书",
        code,
        "孙调解员",
        "被告于七日内退还货款十万元",
        "原告：张三",
        "已经双方当事人于",
        draft2["digest"],
        accepted["case_number"],
    ):
        assert fact in text, fact
    assert "十日内" not in text

    # 8. the audit trail names every change, in order
    trail = judge.get(f"/v1/cases/{cid}/audit").json()
    actions = [e["action"] for e in trail]
    for a in (
        "case.filed",
        "fee.assessed",
        "attachment.uploaded",
        "case.accepted",
        "fee.paid",
        "evidence.uploaded",
        "document.generated",
        "service.sent",
        "service.delivered",
        "service.failed",
        "hearing.scheduled",
        "mediation.opened",
        "mediation.agreement_drafted",
        "mediation.confirmed",
        "mediation.agreed",
    ):
        assert a in actions, a
    assert actions[0] == "case.filed"
    ids = [e["id"] for e in trail]
    assert ids == sorted(ids)
    paid = next(e for e in trail if e["action"] == "fee.paid")
    assert paid["actor_subject"] == p.sub and paid["detail"]["amount_fen"] == 2_300_00
    assert p.get(f"/v1/cases/{cid}/audit").status_code == 403


def test_rejection_needs_reasons_and_waives_the_fee(court, people) -> None:
    p, clerk = people["plaintiff"], people["clerk"]
    cid = p.post("/v1/cases", json=filing(p.sub)).json()["id"]
    r = clerk.post(f"/v1/cases/{cid}/decision", json={"decision": "reject"})
    assert r.status_code == 422 and r.json()["code"] == "decision.reason_required"
    assert p.get(f"/v1/cases/{cid}").json()["status"] == "filed"
    r = clerk.post(
        f"/v1/cases/{cid}/decision",
        json={"decision": "reject", "reason": "不属于本院管辖，请向有管辖权的法院起诉"},
    )
    assert r.status_code == 200
    got = p.get(f"/v1/cases/{cid}").json()
    assert got["status"] == "rejected" and "管辖" in got["decision_reason"]
    assert got["fees"][0]["status"] == "waived" and got["case_number"] is None
    r = p.upload(cid, pdf())
    assert r.status_code == 409 and r.json()["code"] == "case.rejected"
    r = clerk.post(
        f"/v1/cases/{cid}/documents",
        json={"template": "acceptance_notice", "party_id": got["parties"][0]["id"]},
    )
    assert r.status_code == 409 and r.json()["code"] == "document.case_not_ready"


def test_health_readiness_metrics_openapi(court) -> None:
    import httpx

    base = court.url
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{base}/readyz")
    assert ready.status_code == 200 and ready.json()["schema"] == head_revision()
    metrics = httpx.get(f"{base}/metrics").text
    assert "litigation_http_requests_total" in metrics
    spec = httpx.get(f"{base}/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "/v1/cases/{case_id}/evidence" in spec["paths"]


def test_the_audit_trail_cannot_be_rewritten(court, people) -> None:
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    p = people["plaintiff"]
    cid = p.post("/v1/cases", json=filing(p.sub)).json()["id"]
    for sql in (
        "UPDATE audit_events SET action = 'nothing' WHERE case_id = :c",
        "DELETE FROM audit_events WHERE case_id = :c",
        "TRUNCATE audit_events",
    ):
        with pytest.raises(DBAPIError, match="append-only"), court.engine.begin() as conn:
            conn.execute(text(sql), {"c": cid})
    assert court.sql("SELECT count(*) FROM audit_events WHERE case_id = :c", c=cid)[0][0] == 2
