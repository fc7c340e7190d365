"""What the edge's tests share: the published name, and curl aimed at the edge's bench address
with the site CA (the way a court client that trusts the CA connects)."""

import pytest

NAME = "litigation.court.test"
CA = "/etc/courtcloud/pki/ca.crt"


@pytest.fixture(scope="module")
def address(host):
    return host.check_output("hostname -I").split()[0]


@pytest.fixture(scope="module")
def curl(host, address):
    def run(path: str, *options: str) -> str:
        """The status code, then the body, of GET https://NAME/path through the edge."""
        quoted = " ".join(f"'{o}'" for o in options)
        return host.check_output(
            f"curl -sS --resolve {NAME}:443:{address} --cacert {CA} -w '\\n%{{http_code}}' "
            f"{quoted} 'https://{NAME}{path}'")
    return run
