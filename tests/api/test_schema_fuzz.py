"""Fuzzing the API against its own OpenAPI schema (issue #18, "Done means").

schemathesis reads the live schema at /api/v1/schema/ and generates requests for every
operation, with the token of each role (admin, operator, analyst, service): no answer may be a
5xx, and every answer must be declared by the schema — its status code, content type, headers
and body shape (the 4xx codes each operation can answer are declared with the one error shape
by `config.api.schema.error_responses`). Examples per operation are few (`EXAMPLES`,
`PITBOSS_FUZZ_EXAMPLES` to run more) so that CI stays within a few minutes (about 50 s a role
on the 2-core CI machine); a failure names the request to replay (curl).
"""

import os

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    unsupported_method,
)

from tests.conftest import _client_for
from tests.schemathesis_checks import CONFORMANCE, operation_run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

EXAMPLES = int(os.environ.get("PITBOSS_FUZZ_EXAMPLES", "3"))
ROLES = ("admin", "operator", "analyst", "service")
# Every check that judges one answer, including the authentication probes (`ignored_auth`
# sends each operation without the token and with a wrong one: 401/403 expected). Not
# `positive_data_acceptance`: a schema-valid request may still be refused by the domain (a
# bonus of an unknown player is a 404, a bet over the balance a 409), nor the stateful checks
# (`use_after_free`, `ensure_resource_availability`), which need schemathesis's stateful runner.
CHECKS = [*CONFORMANCE, negative_data_rejection, ignored_auth, missing_required_header,
          unsupported_method]  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_no_answer_is_a_5xx_or_off_the_schema(role, live_server, settings_throttle_off):
    authorization = _client_for(role)._credentials["HTTP_AUTHORIZATION"]
    schema = schemathesis.openapi.from_url(
        f"{live_server.url}/api/v1/schema/?format=json", headers={"Authorization": authorization}
    )
    failures: dict[tuple, str] = {}  # one report per operation, status and kind of failure
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20, "the schema lists the API's operations"

    explicit = {"Authorization": authorization}

    def exercise(case):
        case.headers = {**(case.headers or {}), **explicit}
        response = case.call(base_url=live_server.url)
        try:
            # the token passed as explicit headers: `ignored_auth` then probes the operation
            # without it and with a wrong one, and expects a 401/403
            case.validate_response(response, checks=CHECKS, headers=explicit)
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - reported below
            kind = str(error).split("\n\n")[1][:60] if "\n\n" in str(error) else ""
            failures.setdefault(
                (case.operation.label, response.status_code, kind),
                f"{role} {case.method} {case.formatted_path} -> {response.status_code}: "
                f"{str(error)[:1200]}",
            )

    for operation in operations:
        try:
            operation_run(operation, exercise, max_examples=EXAMPLES, derandomize=True)
        except Exception as error:  # noqa: BLE001 - e.g. a strategy that cannot generate
            failures.setdefault((operation.label,), f"{role} {operation.label}: {error!r:.300}")
    assert not failures, "\n".join(failures.values())


@pytest.fixture
def settings_throttle_off(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
