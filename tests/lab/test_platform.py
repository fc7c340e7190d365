"""The court's front door, end to end, on the lab: what a litigant, a clerk and a judge see
when they use the apps through a site's entry (the edge hosts, nginx with ModSecurity, on
443 with the site CA's certificate for each published name `<app>.<court domain>`).

A case is filed, paid and accepted, its evidence is registered on the chain and proven with
this module's own RFC 9162 verifier, its evidence object reaches the Miyun vault; a page is
read and the case searched for a word on it; a clip is transcribed; a summons is generated;
an SQL injection is refused before any app sees it; a worker is lost without the service
stopping; and the standby site's entry answers for the replicated case.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
import wave
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from xml.etree import ElementTree

import httpx
import pytest
from chain.verifier import LogKey, tree_head_message, verify_signature

from courtcloud.charts import chart_defaults, chart_path, chart_values, role_default
from courtcloud.lab.platform import CHAIN_KEYS
from courtcloud.lab.pods import APP_LABEL
from courtcloud.model import entry_address

from .conftest import LAB_STATE, container_of, courtcloud, host_run, member_in_role, s3_call

pytestmark = [pytest.mark.lab, pytest.mark.platform]

T = TypeVar("T")
CASE_NUMBER = re.compile(r"\(\d{4}\)京0491民初\d+号")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
W_TEXT = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t"


# --- a client of the front door ------------------------------------------------------------

class Entry:
    """HTTPS to one published name through a site's entry: the entry's address in the URL,
    the published name as Host and as the TLS server name, the certificate checked against
    the site's CA for that name; optionally as a signed-in user (bearer token)."""

    def __init__(self, address: str, name: str, ca: Path, token: str | None = None,
                 timeout: float = 60) -> None:
        self.name = name
        headers = {"Host": name}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(base_url=f"https://{address}", headers=headers,
                                 verify=ssl.create_default_context(cafile=str(ca)),
                                 timeout=httpx.Timeout(timeout, connect=10))

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, extensions={"sni_hostname": self.name}, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)


def answer(r: httpx.Response) -> str:
    """A response for an assertion message, saying whether an app (JSON) or the edge answered."""
    by_app = r.headers.get("content-type", "").startswith(("application/json",
                                                           "application/problem+json"))
    return (f"{r.request.method} {r.request.url.path} -> {r.status_code} from "
            f"{'the app' if by_app else 'the edge, not an app'}: {r.text[:600]}")


def wait_until(what: str, seconds: float, probe: Callable[[], T | None], every: float = 2) -> T:
    """probe() until it gives something truthy, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(every)


def hosts_with(plan, site: str, role: str) -> list:
    return [h for h in plan.hosts if h.site == site and role in h.roles]


def sm3(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


# --- RFC 9162 over SM3, written here so that the test trusts nothing the chain computes -----

def leaf_hash(entry: dict[str, Any]) -> bytes:
    """SM3(0x00 || leaf); the leaf is the canonical JSON of the entry (apps/chain/README.md)."""
    leaf = {"v": 1, **{k: entry[k] for k in ("storage_number", "digest_alg", "digest",
                                            "submitter", "metadata", "integrated_time")}}
    return sm3(b"\x00" + json.dumps(leaf, sort_keys=True, separators=(",", ":"),
                                    ensure_ascii=False).encode())


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes:
    """RFC 9162 2.1.3.2: the root that the audit path gives for leaf `index` of a tree of `size`
    leaves (interior node SM3(0x01 || left || right))."""
    assert 0 <= index < size, f"leaf {index} is outside a tree of {size} leaves"
    fn, sn, r = index, size - 1, leaf
    for p in path:
        assert sn > 0, "the audit path is longer than the tree is deep"
        if fn & 1 or fn == sn:
            r = sm3(b"\x01" + p + r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = sm3(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0, "the audit path is shorter than the tree is deep"
    return r


def proven(leaf: bytes, proof: dict[str, Any], head: dict[str, Any]) -> bool:
    """The proof takes the leaf to the root of the signed head, at the head's size."""
    path = [bytes.fromhex(h) for h in proof["hashes"]]
    root = root_from_inclusion_proof(leaf, proof["leaf_index"], proof["tree_size"], path)
    return proof["tree_size"] == head["tree_size"] and root.hex() == head["root_hash"]


def signed_by(head: dict[str, Any], key: LogKey) -> bool:
    message = tree_head_message(head["origin"], head["tree_size"], head["root_hash"],
                                head["timestamp"])
    return (head["key_id"] == key.key_id
            and verify_signature(key, message, bytes.fromhex(head["signature"])))


# --- what the litigants send ---------------------------------------------------------------

def filing(plaintiff: str, defendant: str,
           facts: str = "原告于网络平台购买商品。被告未按约定发货。") -> dict[str, Any]:
    """A statement of claim (the shape of apps/litigation's test kit)."""
    return {
        "cause": "网络购物合同纠纷",
        "facts": facts,
        "parties": [
            {"side": "plaintiff", "name": "张三",
             "id_number": "11010119900101" + uuid.uuid4().hex[:4].upper(),
             "address": "北京市海淀区", "phone": "+86 138 0000 0000",
             "email": "plaintiff@example.test", "account_subject": plaintiff},
            {"side": "defendant", "kind": "organisation", "name": "北京某网络科技有限公司",
             "id_number": "91110108" + uuid.uuid4().hex[:10].upper(),
             "address": "北京市朝阳区", "phone": "010-12345678", "account_subject": defendant},
        ],
        "claims": [{"text": "判令被告退还货款", "amount_fen": 12_345_600},
                   {"text": "判令被告承担本案诉讼费用"}],
    }


def pdf(text: str) -> bytes:
    """A small PDF, different on every call."""
    return (b"%PDF-1.4\n% " + text.encode() + b"\n" + uuid.uuid4().hex.encode()
            + b"\n%%EOF\n")


def docx_text(data: bytes) -> str:
    """All the text runs of a .docx's body, joined."""
    with zipfile.ZipFile(io.BytesIO(data)) as docx:
        body = ElementTree.fromstring(docx.read("word/document.xml"))
    return "".join(t.text or "" for t in body.iter(W_TEXT))


def evidence_key(case_id: str, file_id: str) -> str:
    """Where litigation keeps an evidence file in its bucket (litigation.api.files._store)."""
    return f"cases/{case_id}/evidence/{file_id}"


# --- the platform and the people ------------------------------------------------------------

@pytest.fixture(scope="module")
def platform_up(lab_up, project) -> list[dict[str, Any]]:
    """`courtcloud lab apps`: every replica that should serve is ready (exit 0), the standby
    site's litigation included (it serves reads from its database's copy). The standby's chain
    replicas wait for their database's promotion (docs/platform.md, Back ends): the command
    names them as warm standby and does not wait for them."""
    proc = courtcloud("lab", "apps", "--json", "--project-dir", str(project))
    sys.stderr.write(proc.stderr[-4000:])
    assert proc.returncode == 0, proc.stderr[-3000:]
    started = json.loads(proc.stdout)
    assert started["serving"] is True
    site_of = {pod: row["site"] for row in started["platform"]
               for app in row["apps"] for pod in app["pods"]}
    assert started["warm_standby"] and all(
        site_of[pod] == "standby" and "-chain-" in pod for pod in started["warm_standby"]
    ), started["warm_standby"]
    standby = next(row for row in started["platform"] if row["site"] == "standby")
    litigation = next(a for a in standby["apps"] if a["app"] == "litigation")
    assert not litigation["warm_standby"] and litigation["ready"] == litigation["desired"], \
        litigation
    primary = next(row for row in started["platform"] if row["site"] == "primary")
    short = {a["app"]: f"{a['ready']}/{a['desired']}" for a in primary["apps"]
             if chart_path(a["app"]) and (not a["started"] or a["ready"] != a["desired"])}
    assert not short, f"primary replicas not ready: {short}"
    return started["platform"]


@dataclass(frozen=True)
class Person:
    subject: str
    token: str


@pytest.fixture(scope="module")
def people(project) -> dict[str, Person]:
    """A plaintiff and a defendant (both parties, i.e. litigants), a clerk and a judge, with
    tokens from the lab's identity provider; subjects new on every run."""
    run = uuid.uuid4().hex[:8]
    roles = {"plaintiff": "party", "defendant": "party", "clerk": "clerk", "judge": "judge"}
    found = {}
    for who, role in roles.items():
        subject = f"lab-{who}-{run}"
        proc = courtcloud("lab", "token", "--role", role, "--subject", subject,
                          "--project-dir", str(project), timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        found[who] = Person(subject, proc.stdout.strip())
    return found


@pytest.fixture(scope="module")
def entry(lab_estate) -> Callable[[str], str]:
    """The address a site's entry answers on: the one service address its edge hosts share
    (keepalived), the only address these tests send the court's requests to."""

    def address(site: str) -> str:
        return str(entry_address(lab_estate.site(site)))

    return address


@pytest.fixture(scope="module")
def front_door(platform_up, entry, lab_estate) -> Iterator[Callable[..., Entry]]:
    """front_door(app, token=None, site="primary"): a client of `<app>.<court domain>`
    through that site's entry, trusting that site's CA only."""
    clients: list[Entry] = []

    def open_(app: str, token: str | None = None, site: str = "primary") -> Entry:
        client = Entry(entry(site), f"{app}.{lab_estate.court.domain}",
                       LAB_STATE / "pki" / site / "ca.crt", token)
        clients.append(client)
        return client

    yield open_
    for client in clients:
        client.http.close()


@dataclass(frozen=True)
class Filed:
    case: dict[str, Any]  # as the plaintiff reads it once accepted
    payment: dict[str, Any]


@pytest.fixture(scope="module")
def accepted_case(front_door, people) -> Filed:
    """The plaintiff files a case against the defendant and pays the fee; the clerk accepts
    it and assigns the judge."""
    plaintiff = front_door("litigation", people["plaintiff"].token)
    clerk = front_door("litigation", people["clerk"].token)
    # Only a judge of the court who has signed in can be assigned a case.
    r = front_door("litigation", people["judge"].token).get("/v1/accounts/me")
    assert r.status_code == 200, answer(r)
    r = plaintiff.post("/v1/cases", json=filing(people["plaintiff"].subject,
                                                people["defendant"].subject))
    assert r.status_code == 201, answer(r)
    case = r.json()
    (fee,) = case["fees"]
    r = plaintiff.post(f"/v1/cases/{case['id']}/payments", json={
        "fee_id": fee["id"], "amount_fen": fee["amount_fen"], "channel": "wechat_pay",
        "transaction_reference": f"WX-{case['id'][:8]}-{uuid.uuid4().hex[:8]}"})
    assert r.status_code == 201, answer(r)
    payment = r.json()
    r = clerk.post(f"/v1/cases/{case['id']}/decision",
                   json={"decision": "accept", "judge_subject": people["judge"].subject})
    assert r.status_code == 200, answer(r)
    r = plaintiff.get(f"/v1/cases/{case['id']}")
    assert r.status_code == 200, answer(r)
    return Filed(r.json(), payment)


@dataclass(frozen=True)
class Evidence:
    data: bytes
    record: dict[str, Any]  # litigation's file record


@pytest.fixture(scope="module")
def evidence(front_door, people, accepted_case) -> list[Evidence]:
    """The plaintiff uploads two pieces of evidence (PDF) to the accepted case."""
    plaintiff = front_door("litigation", people["plaintiff"].token)
    uploaded = []
    for title, filename in (("聊天记录", "chat.pdf"), ("转账凭证", "transfer.pdf")):
        data = pdf(title)
        r = plaintiff.post(f"/v1/cases/{accepted_case.case['id']}/evidence",
                           params={"title": title, "filename": filename}, content=data,
                           headers={"Content-Type": "application/pdf"})
        assert r.status_code == 201, answer(r)
        uploaded.append(Evidence(data, r.json()))
    return uploaded


# --- the tests -------------------------------------------------------------------------------

def test_a_case_is_filed_paid_accepted_and_its_evidence_proven_through_the_entry(
        front_door, people, accepted_case, evidence):
    """The plaintiff sees the case accepted with a case number, the judge assigned and the fee
    paid; each piece of evidence has a storage number, and anyone holding it can prove from
    the chain's answers alone that the file's SM3 digest is in the log the primary site's
    chain node signed."""
    case = accepted_case.case
    assert case["status"] == "accepted" and CASE_NUMBER.fullmatch(case["case_number"]), case
    assert case["judge_subject"] == people["judge"].subject
    assert [f["status"] for f in case["fees"]] == ["paid"]
    assert accepted_case.payment["payer_subject"] == people["plaintiff"].subject

    numbers = [e.record["storage_number"] for e in evidence]
    assert all(numbers) and len(set(numbers)) == len(numbers), numbers
    for e in evidence:
        assert e.record["sm3"] == sm3(e.data).hex() and e.record["purpose"] == "evidence"

    key = LogKey(str(chart_defaults("chain")["signingAlgorithm"]),
                 (LAB_STATE / CHAIN_KEYS / "primary" / "signing.pub").read_text().strip())
    chain = front_door("chain")
    leaves = {}
    for e in evidence:
        r = chain.get(f"/v1/evidence/{e.record['storage_number']}")
        assert r.status_code == 200, answer(r)
        bundle = r.json()
        entry, head = bundle["entry"], bundle["tree_head"]
        assert entry["digest_alg"] == "sm3" and entry["digest"] == sm3(e.data).hex(), entry
        assert entry["leaf_index"] == e.record["chain_leaf_index"]
        leaves[e.record["storage_number"]] = leaf = leaf_hash(entry)
        assert leaf.hex() == bundle["leaf_hash"]
        assert proven(leaf, bundle["inclusion_proof"], head), bundle
        assert head["origin"] == "primary" and signed_by(head, key), head

    # The same evidence against the log's latest signed head, through the proof endpoint.
    r = chain.get("/v1/log/head")
    assert r.status_code == 200, answer(r)
    latest = r.json()
    assert signed_by(latest, key), latest
    for e in evidence:
        r = chain.get("/v1/log/proofs/inclusion", params={
            "leaf_index": e.record["chain_leaf_index"], "tree_size": latest["tree_size"]})
        assert r.status_code == 200, answer(r)
        assert proven(leaves[e.record["storage_number"]], r.json(), latest), r.json()

    plaintiff = front_door("litigation", people["plaintiff"].token)
    for number in numbers:
        r = plaintiff.post(f"/v1/evidence/{number}/verification")
        assert r.status_code == 200, answer(r)
        check = r.json()
        assert check["file_intact"] and check["chain_verified"], check


def test_the_evidence_object_is_copied_to_the_miyun_vault(lab_plan_, lab_estate,
                                                          accepted_case, evidence):
    """The evidence file the plaintiff uploaded is, byte for byte, in the primary site's
    evidence bucket and, after the copy job, in the Miyun vault's copy of that bucket."""
    primary = lab_estate.site("primary")
    bucket = chart_values(lab_estate, primary, "litigation")["s3"]["bucket"]
    vault_site = primary.replication.objects_peer_site
    # roles/ceph: the copy site keeps <ceph_copy_bucket_prefix (the bucket)>-<source site>,
    # written by user copy-<source site>; the job runs on the site's first gateway host.
    copy_bucket, copy_user = f"{bucket}-{primary.name}", f"copy-{primary.name}"
    gateway = hosts_with(lab_plan_, "primary", "ceph-rgw")[0].hostname
    vault = hosts_with(lab_plan_, vault_site, "backup-vault")[0].hostname
    item = evidence[0]
    key = evidence_key(accepted_case.case["id"], item.record["id"])

    rc, stored = s3_call(lab_plan_, gateway, gateway, "primary", "evidence", "get_object",
                         Bucket=bucket, Key=key)
    assert rc == 0 and bytes.fromhex(stored["Body"]) == item.data, stored

    def copied() -> dict[str, Any] | None:
        # A copy already running may have started before the upload: start it again.
        proc = host_run(container_of(lab_plan_, gateway), "systemctl", "start",
                        "courtcloud-evidence-copy.service", timeout=300)
        assert proc.returncode == 0, proc.stderr
        rc, got = s3_call(lab_plan_, gateway, vault, vault_site, copy_user, "get_object",
                          Bucket=copy_bucket, Key=key)
        return got if rc == 0 else None

    got = wait_until(f"{copy_bucket}/{key} in {vault}", 300, copied, every=5)
    data = bytes.fromhex(got["Body"])
    assert data == item.data and sm3(data).hex() == item.record["sm3"]


# What the page image says, and a word on it to search for.
PAGE_LINES = ("北京互联网法院", "本案证据已经区块链存证")
PAGE_WORD = "区块链存证"
CJK_FONTS = (("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # SC face
             ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0))


def page_png(lines: tuple[str, ...]) -> bytes:
    """A clean page image of the lines, in a Simplified Chinese font (apps/ocr/apt.txt)."""
    image_module = pytest.importorskip("PIL.Image", reason="Pillow comes with apps/ocr")
    font_module = pytest.importorskip("PIL.ImageFont", reason="Pillow comes with apps/ocr")
    draw_module = pytest.importorskip("PIL.ImageDraw", reason="Pillow comes with apps/ocr")
    path, index = next(((p, i) for p, i in CJK_FONTS if Path(p).exists()), (None, 0))
    if path is None:
        pytest.skip("no CJK font: apt-get install fonts-noto-cjk (apps/ocr/apt.txt)")
    font = font_module.truetype(path, 44, index=index)
    image = image_module.new("RGB", (900, 120 + 90 * len(lines)), "white")
    draw = draw_module.Draw(image)
    for i, line in enumerate(lines):
        draw.text((60, 60 + 90 * i), line, fill=(20, 20, 20), font=font)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def test_a_page_image_is_read_and_the_case_searched_for_a_word_on_it(front_door,
                                                                    accepted_case):
    """A clerk submits a scanned page for the case; the job finishes with the page's text,
    and a search of the case for a word on the page finds it, every time it is asked."""
    ocr = front_door("ocr")
    case_id = accepted_case.case["id"]
    r = ocr.post("/v1/jobs", files={"file": ("evidence-index.png", page_png(PAGE_LINES),
                                             "image/png")},
                 data={"case_id": case_id, "document": "证据目录"})
    assert r.status_code == 202, answer(r)
    job_id = r.json()["id"]

    def finished() -> dict[str, Any] | None:
        # 404 is a failure: a litigant polling the job must not be told it does not exist.
        r = ocr.get(f"/v1/jobs/{job_id}")
        assert r.status_code == 200, answer(r)
        return r.json() if r.json()["state"] in ("succeeded", "failed") else None

    job = wait_until(f"OCR job {job_id}", 240, finished)
    assert job["state"] == "succeeded", job
    r = ocr.get(f"/v1/jobs/{job_id}/result")
    assert r.status_code == 200, answer(r)
    assert PAGE_WORD in "".join(r.json()["text"].split()), r.json()["text"]

    # The entry balances requests over the workers: ask as often as there are replicas and
    # more, as a litigant's repeated searches would.
    for _ in range(4):
        r = ocr.get(f"/v1/cases/{case_id}/search", params={"q": PAGE_WORD})
        assert r.status_code == 200, answer(r)
        assert any(h["document"] == "证据目录" for h in r.json()["hits"]), r.json()


CLIP_TEXT = "the plaintiff filed a complaint against the defendant"


def spoken_wav(text: str, voice: str = "slt") -> bytes:
    """The text spoken by flite (apps/asr/apt.txt), with 0.3 s of silence either side."""
    exe = shutil.which("flite")
    if exe is None:
        pytest.skip("flite is not installed: apt-get install flite (apps/asr/apt.txt)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.wav"
        subprocess.run([exe, "-voice", voice, "-t", text, "-o", str(out)], check=True,
                       capture_output=True, timeout=60)
        with wave.open(str(out), "rb") as spoken:
            params, frames = spoken.getparams(), spoken.readframes(spoken.getnframes())
    pad = b"\x00" * (int(0.3 * params.framerate) * params.sampwidth * params.nchannels)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as clip:
        clip.setnchannels(params.nchannels)
        clip.setsampwidth(params.sampwidth)
        clip.setframerate(params.framerate)
        clip.writeframes(pad + frames + pad)
    return buf.getvalue()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level edit distance over the reference's length."""
    ref, hyp = (re.findall(r"[a-z']+", s.lower()) for s in (reference, hypothesis))
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        diagonal, row[0] = row[0], i
        for j, heard in enumerate(hyp, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1,
                                           diagonal + (word != heard))
    return row[-1] / len(ref)


def test_a_short_clip_is_transcribed(front_door):
    """A recording of a sentence said in court comes back as text with most words right."""
    asr = front_door("asr")
    r = asr.post("/v1/transcriptions",
                 files={"file": ("hearing.wav", spoken_wav(CLIP_TEXT), "audio/wav")})
    assert r.status_code == 200, answer(r)
    heard = r.json()["text"]
    assert word_error_rate(CLIP_TEXT, heard) < 0.5, heard


def test_a_summons_document_is_generated_for_the_case(front_door, people, accepted_case):
    """The judge schedules an online hearing and generates the defendant's summons; it is a
    .docx naming the case by its number."""
    judge = front_door("litigation", people["judge"].token)
    case = accepted_case.case
    start = (datetime.now(UTC) + timedelta(days=30)).replace(hour=1, minute=30, second=0,
                                                              microsecond=0)
    r = judge.post(f"/v1/cases/{case['id']}/hearings", json={
        "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat(),
        "mode": "online"})
    assert r.status_code == 201, answer(r)
    hearing = r.json()
    defendant = next(p for p in case["parties"] if p["side"] == "defendant")
    r = judge.post(f"/v1/cases/{case['id']}/documents", json={
        "template": "summons", "hearing_id": hearing["id"], "party_id": defendant["id"]})
    assert r.status_code == 201, answer(r)
    document = r.json()
    assert document["template"] == "summons"
    r = judge.get(f"/v1/documents/{document['id']}/content")
    assert r.status_code == 200, answer(r)
    assert r.headers["content-type"].startswith(DOCX)
    assert sm3(r.content).hex() == r.headers["X-Content-SM3"] == document["sm3"]
    text = docx_text(r.content)
    assert case["case_number"] in text and "传票" in text, text[:2000]


def waf_audit(plan, site: str, marker: str) -> dict[str, Any] | None:
    """The ModSecurity audit record (on any edge host of the site) carrying the marker."""
    log = str(role_default("edge", "edge_waf_audit_log"))
    for host in hosts_with(plan, site, "edge"):
        found = host_run(host.container, "grep", "-h", marker, log)
        if found.returncode == 0:
            return json.loads(found.stdout.splitlines()[0])["transaction"]
    return None


def logged_requests(app: str, site: str, since: float) -> list[dict[str, Any]]:
    """The requests the app's pods on the site logged (one JSON line each) since a moment."""
    listed = subprocess.run(["podman", "ps", "--filter", f"label={APP_LABEL}={app}",
                             "--format", "json"], capture_output=True, text=True, timeout=60,
                            check=True)
    pods = [c["Names"][0] for c in json.loads(listed.stdout or "[]")
            if c.get("Labels", {}).get("io.courtcloud.site") == site]
    assert pods, f"no {app} pod runs on {site}"
    seen = []
    for pod in pods:
        logs = subprocess.run(["podman", "logs", "--since", str(int(since) - 1), pod],
                              capture_output=True, text=True, timeout=60, check=True)
        for line in (logs.stdout + "\n" + logs.stderr).splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict) or record.get("message") != "request":
                continue
            at = datetime.strptime(record["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
            if at.timestamp() >= since:
                seen.append(record)
    return seen


def test_the_waf_refuses_sql_injection_before_the_app(front_door, people, lab_plan_):
    """A filing whose facts carry an SQL injection is refused by the entry (403, the WAF's
    own page, its SQL injection rules in the audit log) and never reaches a litigation
    replica, while an ordinary filing sent right after it does."""
    plaintiff = front_door("litigation", people["plaintiff"].token)
    parties = (people["plaintiff"].subject, people["defendant"].subject)
    blocked, ordinary = str(uuid.uuid4()), str(uuid.uuid4())
    since = time.time()
    r = plaintiff.post("/v1/cases", headers={"X-Request-Marker": blocked}, json=filing(
        *parties, facts=f"{blocked} 1' UNION SELECT password FROM users--"))
    assert r.status_code == 403, answer(r)
    assert not r.headers.get("content-type", "").startswith("application/problem+json")
    r = plaintiff.post("/v1/cases", headers={"X-Request-Marker": ordinary}, json=filing(
        *parties, facts=f"{ordinary} 原告于网络平台购买商品。"))
    assert r.status_code == 201, answer(r)

    record = wait_until("the WAF's audit record of the refused filing", 30,
                        lambda: waf_audit(lab_plan_, "primary", blocked))
    rules = {m["details"]["ruleId"] for m in record["messages"]}
    assert any(rule.startswith("942") for rule in rules), rules  # REQUEST-942 SQL injection

    # The app logs method, path and status (not headers or bodies): the ordinary filing is
    # there; once it is, a refused filing that had reached the app would be there too.
    def filings() -> list[dict[str, Any]] | None:
        found = [r for r in logged_requests("litigation", "primary", since)
                 if r.get("method") == "POST" and r.get("path") == "/v1/cases"]
        return found if any(r.get("status") == 201 for r in found) else None

    seen = wait_until("the ordinary filing in the litigation pods' logs", 30, filings)
    assert [r["status"] for r in seen] == [201], seen


def primary_ready(project, app: str) -> tuple[int, int]:
    """(ready, desired) replicas of the app on the primary site, as `lab status` says."""
    proc = courtcloud("lab", "status", "--json", "--project-dir", str(project), timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads(proc.stdout)["platform"]
    found = next(a for row in rows if row["site"] == "primary" for a in row["apps"]
                 if a["app"] == app)
    return found["ready"], found["desired"]


def test_a_stopped_worker_does_not_interrupt_service_and_its_replica_returns(
        front_door, people, accepted_case, lab_plan_, project):
    """While a worker host is down, every read of the case by the plaintiff succeeds; once it
    is back, both litigation replicas are ready again within two minutes."""
    plaintiff = front_door("litigation", people["plaintiff"].token)
    case_id = accepted_case.case["id"]
    worker = container_of(lab_plan_, "primary-node-1")
    stopped = subprocess.run(["podman", "stop", "-t", "10", worker], capture_output=True,
                             text=True, timeout=120, check=False)
    assert stopped.returncode == 0, stopped.stderr
    outcomes: list[str] = []
    try:
        for _ in range(20):  # about 10 s: one read every half second
            began = time.monotonic()
            try:
                r = plaintiff.get(f"/v1/cases/{case_id}")
                ok = r.status_code == 200 and r.json()["id"] == case_id
                outcomes.append("ok" if ok else answer(r))
            except httpx.HTTPError as exc:
                outcomes.append(repr(exc))
            time.sleep(max(0.0, 0.5 - (time.monotonic() - began)))
    finally:
        started = subprocess.run(["podman", "start", worker], capture_output=True, text=True,
                                 timeout=120, check=False)
    assert outcomes == ["ok"] * 20, outcomes
    assert started.returncode == 0, started.stderr

    def both_ready() -> tuple[int, int] | None:
        ready, desired = primary_ready(project, "litigation")
        return (ready, desired) if ready == desired == 2 else None

    wait_until("both litigation replicas ready again", 120, both_ready, every=3)


def entry_holder(plan, site: str, address: str) -> str | None:
    """Which of the site's edge hosts holds the entry address now (asked of each host)."""
    for host in hosts_with(plan, site, "edge"):
        shown = host_run(host.container, "ip", "-o", "-4", "addr", "show", "to", address)
        if shown.returncode == 0 and address in shown.stdout:
            return host.hostname
    return None


def test_the_entry_moves_to_the_other_edge_host_when_its_holder_stops(
        front_door, people, accepted_case, lab_plan_, entry):
    """The site's entry is one address its two edge hosts share: when the host holding it
    stops, the other takes it over within seconds and the plaintiff's reads go on; the
    stopped host, started again, takes it back (it is preferred)."""
    address = entry("primary")
    holder = wait_until("an edge host holding the entry", 30,
                        lambda: entry_holder(lab_plan_, "primary", address))
    assert holder == "primary-edge-1"  # the first edge host is preferred
    plaintiff = front_door("litigation", people["plaintiff"].token)
    case_id = accepted_case.case["id"]
    container = container_of(lab_plan_, holder)
    stopped = subprocess.run(["podman", "stop", "-t", "10", container], capture_output=True,
                             text=True, timeout=120, check=False)
    assert stopped.returncode == 0, stopped.stderr
    try:
        moved_at = time.monotonic()
        taken = wait_until("the other edge host to take the entry over", 30,
                           lambda: entry_holder(lab_plan_, "primary", address), every=0.5)
        sys.stderr.write(f"entry taken over by {taken} in {time.monotonic() - moved_at:.1f} s\n")
        assert taken == "primary-edge-2"
        outcomes = []
        for _ in range(10):
            try:
                r = plaintiff.get(f"/v1/cases/{case_id}")
                outcomes.append("ok" if r.status_code == 200 else answer(r))
            except httpx.HTTPError as exc:
                outcomes.append(repr(exc))
            time.sleep(0.3)
        assert outcomes == ["ok"] * 10, outcomes
    finally:
        subprocess.run(["podman", "start", container], capture_output=True, text=True,
                       timeout=120, check=False)
    wait_until("the preferred edge host to hold the entry again", 90,
               lambda: entry_holder(lab_plan_, "primary", address) == "primary-edge-1")


def resolved_site(project, name: str) -> str | None:
    """Which site's entry the court's DNS gives for `name` now (`courtcloud lab resolve`)."""
    proc = courtcloud("lab", "resolve", name, "--json", "--project-dir", str(project),
                      timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (row,) = json.loads(proc.stdout)
    return row["sites"][0] if len(row["sites"]) == 1 else None


def test_the_published_names_move_to_the_standby_entry_when_the_primarys_is_down(
        platform_up, lab_plan_, lab_estate, project):
    """The court's DNS gives the primary site's entry while its edge answers; with both
    primary edge hosts down it gives the standby site's within seconds, and the primary's
    again once they are back."""
    name = f"litigation.{lab_estate.court.domain}"
    assert wait_until("the court's DNS to give the primary's entry", 60,
                      lambda: resolved_site(project, name) == "primary")
    edges = [h.container for h in hosts_with(lab_plan_, "primary", "edge")]
    stopped = subprocess.run(["podman", "stop", "-t", "10", *edges], capture_output=True,
                             text=True, timeout=180, check=False)
    assert stopped.returncode == 0, stopped.stderr
    try:
        began = time.monotonic()
        wait_until("the court's DNS to give the standby's entry", 60,
                   lambda: resolved_site(project, name) == "standby", every=1)
        sys.stderr.write(f"DNS moved to the standby in {time.monotonic() - began:.1f} s\n")
    finally:
        subprocess.run(["podman", "start", *edges], capture_output=True, text=True,
                       timeout=180, check=False)
    wait_until("the court's DNS to give the primary's entry again", 120,
               lambda: resolved_site(project, name) == "primary", every=2)


def test_the_case_is_read_through_the_standby_sites_entry_once_replicated(
        front_door, people, accepted_case, lab_plan_, lab_estate):
    """Once the case has reached the standby site's database, the plaintiff reads it through
    the standby site's entry (its own CA), as after a switch of sites."""
    case = accepted_case.case
    database = chart_values(lab_estate, lab_estate.site("standby"), "litigation")["database"]
    member = container_of(lab_plan_, member_in_role(lab_plan_, "standby", "Standby Leader"))

    def replicated() -> str | None:
        proc = host_run(member, "runuser", "-u", "postgres", "--", "psql", "-XAtq",
                        "-d", database["name"], "-c",
                        f"select case_number from cases where id = '{case['id']}'")
        return proc.stdout.strip() or None

    number = wait_until("the case in the standby site's database", 60, replicated)
    assert number == case["case_number"], "the standby's copy differs from the primary"
    standby = front_door("litigation", people["plaintiff"].token, site="standby")
    r = standby.get(f"/v1/cases/{case['id']}")
    assert r.status_code == 200, answer(r)
    assert r.json()["case_number"] == case["case_number"]
    # A change there is refused, by name, before anything is written (the copy is read-only).
    r = standby.post("/v1/cases", json=filing(people["plaintiff"].subject,
                                              people["defendant"].subject))
    assert r.status_code == 503 and r.json()["code"] == "site.read_only", answer(r)
