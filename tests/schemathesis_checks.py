"""What the schemathesis tests share: the checks that judge one answer against a schema, and
the cases an HTTP client cannot address."""

from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def addressable(case) -> bool:
    """Leave out path parameters "." and "..": HTTP clients fold them into the path
    (RFC 3986 dot segments), so the request would reach another URL (a 404 of no operation)."""
    return not any(str(value) in (".", "..") for value in (case.path_parameters or {}).values())


def operation_run(operation, body, *, max_examples: int, derandomize: bool = False) -> None:
    """Run `body(case)` on `max_examples` generated cases of `operation` (no example
    database, no deadline: a live server answers at its own pace; `derandomize`: the same
    cases every run)."""
    settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=derandomize,
        suppress_health_check=list(HealthCheck),
    )(given(case=operation.as_strategy().filter(addressable))(body))()
