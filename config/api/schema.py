"""The OpenAPI schema declares the error answers of every operation (SPEC §10).

drf-spectacular documents the success answers it can see in a view. The errors come from
shared layers — authentication (401), role permissions (403), throttling (429), body limits
(413), the one exception handler (400 validation, 404, 409 domain conflicts) and the database
guard (503) — so `error_responses`, a postprocessing hook, adds them to each operation with the
one error shape, `Error`: `{"error": {"code", "message", "details"}}`. An operation's own
declaration of an error code keeps its description; a shapeless body (`responses={409: dict}`)
gets the error shape.
"""

ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error shape of the API (SPEC §10).",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "Stable machine-readable code."},
                "message": {"type": "string"},
                "details": {
                    "description": "Field errors (an object or a list) or the refusal's evidence."
                },
            },
            "required": ["code", "message", "details"],
        }
    },
    "required": ["error"],
}

# Which codes each operation can answer, and why.
ALWAYS = {
    "400": "Invalid request: a parameter or the body fails validation (`invalid`).",
    "401": "No valid API token (`not_authenticated`, `authentication_failed`).",
    "403": "The token's role may not do this (`permission_denied`).",
    "404": "No such object, or an unknown referenced object (`not_found`).",
    "429": "Too many requests for this token or address (`throttled`); see `Retry-After`.",
    "503": "The database is unavailable (`database_unavailable`); retry after `Retry-After`.",
}
WRITES = {
    "409": "Refused by the domain's state (a conflict, a duplicate, insufficient funds, …).",
    "413": "The request body is larger than allowed (`payload_too_large`).",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular POSTPROCESSING_HOOK: add the `Error` component and the error answers."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in WRITE_METHODS | {"get", "head"}:
                continue
            codes = {**ALWAYS, **(WRITES if method in WRITE_METHODS else {})}
            responses = operation.setdefault("responses", {})
            for code, description in codes.items():
                responses.setdefault(code, _error(description))
            for code, response in responses.items():
                if code.startswith(("4", "5")) and _shapeless(response):
                    responses[code] = _error(response.get("description") or codes.get(code, ""))
    return result


def _shapeless(response: dict) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    return schema is None or (schema.get("type") == "object" and not schema.get("properties"))
