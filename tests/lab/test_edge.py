"""The edge tier on the lab: the playbook converges the edge hosts of the primary and standby
sites; from the primary site's ops host, through primary-edge-1, an ordinary request for a
published name reaches an app on a worker of the node pool (the model's upstream, TLS checked
against the site CA) while an SQL injection gets 403 and lands in the WAF's audit log; a
second run changes nothing."""

from __future__ import annotations

import datetime
import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from .conftest import ANSIBLE_PLAYBOOK, assert_a_second_run_changes_nothing, converge, host_run

pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason="ansible is not installed")]

LAB_PKI = Path("/var/lib/courtcloud/lab/pki")
PUBLISHED = "litigation.bjinternet.court"
UPSTREAM_UNIT = "courtcloud-edge-lab-app"

# A stand-in for the app behind the ingress: HTTPS on 443 with the published name's
# certificate, answering every GET with what it was asked.
APP = """
import http.server, json, ssl
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"app": "lab", "path": self.path,
                           "forwarded_for": self.headers.get("X-Forwarded-For")}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain("/run/edge-lab-app/app.crt", "/run/edge-lab-app/app.key")
server = http.server.ThreadingHTTPServer(("0.0.0.0", 443), Handler)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"""

# The client on another lab host: GET https://<published name><path> from the edge's address,
# trusting only the site CA; prints the status and the body.
CLIENT = """
import http.client, ssl, sys
edge, name, path, ca, marker = sys.argv[1:6]
context = ssl.create_default_context(cadata=ca)
conn = http.client.HTTPSConnection(edge, 443, timeout=20, context=context)
conn.sock = context.wrap_socket(__import__("socket").create_connection((edge, 443), 20),
                                server_hostname=name)
conn.request("GET", path, headers={"Host": name, "X-Test-Id": marker})
response = conn.getresponse()
print(response.status)
print(response.read().decode(errors="replace"))
"""




def lab_host(lab_plan_, hostname: str):
    return next(h for h in lab_plan_.hosts if h.hostname == hostname)


def published_certificate(site: str, name: str) -> tuple[bytes, bytes]:
    """A key and a certificate for NAME signed by the site's CA on the controller."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_cert = x509.load_pem_x509_certificate((LAB_PKI / site / "ca.crt").read_bytes())
    ca_key = serialization.load_pem_private_key((LAB_PKI / site / "ca.key").read_bytes(), None)
    key = ec.generate_private_key(ec.SECP384R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA384()))
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
            cert.public_bytes(serialization.Encoding.PEM))


@pytest.fixture(scope="module")
def converged(lab_up, project):
    return converge(project, lab_up["inventory"], "edge.yml")


@pytest.fixture(scope="module")
def app_on_a_worker(lab_plan_, tmp_path_factory):
    """The published app on primary-node-1 (the model's first upstream), for as long as the
    module runs; a real ingress there already is used as it is."""
    node = lab_host(lab_plan_, "primary-node-1").container
    listening = host_run(node, "ss", "-Hltn", "sport = :443").stdout.strip()
    if listening:
        yield "existing"
        return
    workdir = tmp_path_factory.mktemp("edge-lab-app")
    key, cert = published_certificate("primary", PUBLISHED)
    (workdir / "app.key").write_bytes(key)
    (workdir / "app.crt").write_bytes(cert)
    (workdir / "app.py").write_text(APP)
    assert host_run(node, "mkdir", "-p", "-m", "0700", "/run/edge-lab-app").returncode == 0
    for name in ("app.key", "app.crt", "app.py"):
        subprocess.run(["podman", "cp", str(workdir / name), f"{node}:/run/edge-lab-app/{name}"],
                       check=True, capture_output=True)
    started = host_run(node, "systemd-run", f"--unit={UPSTREAM_UNIT}", "python3",
                       "/run/edge-lab-app/app.py")
    assert started.returncode == 0, started.stderr
    for _ in range(50):
        if host_run(node, "ss", "-Hltn", "sport = :443").stdout.strip():
            break
        time.sleep(0.2)
    yield "stand-in"
    host_run(node, "systemctl", "stop", UPSTREAM_UNIT)
    host_run(node, "rm", "-rf", "/run/edge-lab-app")


def from_ops(lab_plan_, path: str) -> tuple[int, str, str]:
    """GET the published name through primary-edge-1 from primary-ops-1: status, body, marker."""
    marker = str(uuid.uuid4())
    edge = str(lab_host(lab_plan_, "primary-edge-1").address)
    ops = lab_host(lab_plan_, "primary-ops-1").container
    ca = (LAB_PKI / "primary" / "ca.crt").read_text()
    proc = subprocess.run(["podman", "exec", "-i", ops, "python3", "-", edge, PUBLISHED, path,
                           ca, marker], input=CLIENT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    status, _, body = proc.stdout.partition("\n")
    return int(status), body, marker


def test_an_ordinary_request_passes_to_the_app_on_a_worker(converged, app_on_a_worker,
                                                           lab_plan_):
    status, body, _ = from_ops(lab_plan_, "/cases?view=summary")
    if app_on_a_worker == "existing":
        assert status not in (403, 429, 502), body
        return
    # The edge balances over both workers; the stand-in runs on the first, and nginx moves on
    # to the next upstream when one refuses, so every ordinary request gets through.
    assert status == 200, body
    answer = json.loads(body)
    assert answer["app"] == "lab" and answer["path"] == "/cases?view=summary"
    assert answer["forwarded_for"] == str(lab_host(lab_plan_, "primary-ops-1").address)


def test_an_sql_injection_is_blocked_and_audited(converged, lab_plan_):
    status, _, marker = from_ops(lab_plan_, "/cases?id=1%27%20OR%20%271%27%3D%271")
    assert status == 403
    edge = lab_host(lab_plan_, "primary-edge-1").container
    audit = host_run(edge, "grep", "-h", marker, "/var/log/modsecurity/audit.json")
    assert audit.returncode == 0, audit.stderr
    record = json.loads(audit.stdout)["transaction"]
    assert "942100" in {m["details"]["ruleId"] for m in record["messages"]}


def test_a_second_run_changes_nothing(converged, lab_up, project):
    assert_a_second_run_changes_nothing(converged, project, lab_up["inventory"])
