"""Schemathesis against the served OpenAPI document, with a valid bearer token: 0 server errors, and
responses conform to the documented status codes, content types and schemas.

Driven by hand (one Hypothesis test per operation and generation mode) rather than through the
schemathesis pytest plugin, which does not run under this pytest version.
"""

from __future__ import annotations

import time

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import EMPTY
from tests.api.helpers import new_report, new_template
from tests.api.server import Server

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 10}


def test_api_conforms_to_its_openapi_document(server: Server) -> None:
    # A partner of its own, with a template and a report, so small ids sometimes hit real rows.
    with server.client(EMPTY) as api:
        new_report(api, new_template(api))
    headers = {"Authorization": f"Bearer {server.token(EMPTY)}"}
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    failures: list[str] = []
    tested: list[str] = []
    calls = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an Err would raise here, failing the test
        if operation.path.startswith("/files/"):
            continue  # download links carry their own credentials; the blobs tests cover them
        for mode, examples in EXAMPLES.items():

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: schemathesis.Case) -> None:
                nonlocal calls
                calls += 1
                case.call_and_validate(base_url=server.base_url, headers=headers, checks=CHECKS)

            try:
                check()
            except Unsatisfiable:
                # Nothing can be generated (e.g. negative data for an operation without parameters).
                continue
            except Exception as exc:  # collect every operation's failure, then report them all
                failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:1500]}")
        tested.append(operation.label)
    elapsed = time.monotonic() - started
    print(f"schemathesis: {len(tested)} operations, {calls} calls, {len(failures)} failures, {elapsed:.1f}s")
    assert len(tested) >= 25
    assert failures == [], "\n\n".join(failures)
