"""A NUL byte, which PostgreSQL text cannot hold, in any documented query parameter of any
GET endpoint is the client's mistake: never a 500 (SPEC: the API never answers 500 for a
client's mistake). The parameters come from the OpenAPI schema, so a new filter is covered."""

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.postgres


def _query_parameters() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path:
            continue
        for parameter in get.get("parameters", []):
            if parameter.get("in") == "query":
                found.append((path, parameter["name"]))
    return found


@pytest.mark.django_db
def test_a_nul_in_any_query_parameter_is_never_a_500(admin_client_api):
    admin_client_api.raise_request_exception = False
    parameters = _query_parameters()
    assert len(parameters) > 10  # the schema was read
    failures = []
    for path, name in parameters:
        response = admin_client_api.get(path, {name: "a\x00b"})
        if response.status_code >= 500:
            failures.append((path, name, response.status_code))
    assert not failures


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["status=a%00b", "a%00=1", "player=p1&status=%00"])
def test_a_nul_in_the_query_string_is_a_400_with_the_error_shape(admin_client_api, query):
    response = admin_client_api.get(f"/api/v1/rewards/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


@pytest.mark.django_db
def test_the_refusal_carries_the_security_headers_of_any_answer(admin_client_api):
    response = admin_client_api.get("/api/v1/players/?status=%00")
    assert response.status_code == 400
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
