"""Property-based fuzzing of the whole OpenAPI with schemathesis (bounded: a few seconds).

Every operation gets generated valid and invalid input, with a token that holds every
role; each response must be documented, match its schema and content type, and never
be a server error. Driven through the Python API (its pytest plugin breaks under
pytest 9.2), against a service of its own (its own database) on a loopback port.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from litigation_testkit import Caller, Served, filing
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from litigation.app import create_app

# Operations where schema-valid input may rightly be refused: ids that name nothing,
# state the case is not in, rules between fields (a plaintiff and a defendant; ends
# after starts). Only the "schema-valid data is accepted" check is skipped for them.
STATEFUL_OK = {
    ("GET", "/v1/cases"),
    ("GET", "/v1/accounts/me"),
    ("GET", "/v1/accounts"),
    ("GET", "/v1/document-templates"),
    ("GET", "/v1/public/hearings"),
    ("GET", "/v1/reports/service-delivery"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
}


@pytest.fixture(scope="module")
def fuzz_court(make_settings, issuer) -> Iterator[tuple[Served, str]]:
    served = Served(create_app(make_settings(), access_log=False), "litigation-fuzz").start()
    everyone = Caller(served.url, issuer, "fuzzer", ["judge", "clerk", "litigant", "mediator"], "F")
    case = everyone.post("/v1/cases", json=filing("fuzzer")).json()
    everyone.post(f"/v1/cases/{case['id']}/decision", json={"decision": "accept"})
    yield served, everyone.token
    served.stop()


@pytest.mark.slow
def test_api_conforms_to_its_openapi(fuzz_court) -> None:
    served, token = fuzz_court
    api = schemathesis.openapi.from_url(f"{served.url}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = 0
    for result in api.get_all_operations():
        op = result.ok()
        operations += 1
        key = (op.method.upper(), op.path)
        excluded = [] if key in STATEFUL_OK else [positive_data_acceptance]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=op.as_strategy(generation_mode=mode))
            @settings(
                max_examples=5,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.generate],
            )
            def run(case) -> None:  # type: ignore[no-untyped-def]
                case.call_and_validate(headers=headers, excluded_checks=excluded)  # noqa: B023

            try:
                run()
            except Unsatisfiable:
                if mode is GenerationMode.POSITIVE:
                    failures.append(f"{key}: no valid input generated")
            except Exception as exc:  # collect all, report together
                failures.append(f"{key[0]} {key[1]} [{mode}]: {exc}")
    assert operations >= 30
    assert not failures, "\n\n".join(failures)
