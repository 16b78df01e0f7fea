"""config/csp.py: the policy headers built once per settings are django-csp's, byte for byte."""

import pytest
from csp.constants import NONCE
from csp.middleware import CSPMiddleware as LibraryCSPMiddleware
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory, override_settings

from config.csp import CSPMiddleware

REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'self'"], "report-uri": "/csp-report/"}}


def _headers(middleware_class, make_response, path: str = "/api/v1/players/p-1/") -> dict:
    request = RequestFactory().get(path)
    middleware = middleware_class(lambda request: make_response())
    response = middleware(request)
    return {k: v for k, v in response.headers.items() if k.startswith("Content-Security")}


@pytest.mark.parametrize("make_response", [lambda: JsonResponse({"a": 1}), HttpResponse])
def test_the_same_headers_as_django_csp(make_response):
    ours = _headers(CSPMiddleware, make_response)
    assert ours == _headers(LibraryCSPMiddleware, make_response)
    assert "frame-ancestors 'none'" in ours["Content-Security-Policy"]
    assert _headers(CSPMiddleware, make_response) == ours  # the second time from the cache


def test_settings_changes_and_per_response_policies_are_followed():
    with override_settings(CONTENT_SECURITY_POLICY_REPORT_ONLY=REPORT_ONLY):
        ours = _headers(CSPMiddleware, HttpResponse)
        assert ours == _headers(LibraryCSPMiddleware, HttpResponse)
        assert "report-uri /csp-report/" in ours["Content-Security-Policy-Report-Only"]
    assert "Content-Security-Policy-Report-Only" not in _headers(CSPMiddleware, HttpResponse)

    def updated():
        response = HttpResponse()
        response._csp_update = {"img-src": ["https://cdn.example"]}
        return response

    ours = _headers(CSPMiddleware, updated)
    assert ours == _headers(LibraryCSPMiddleware, updated)
    assert "https://cdn.example" in ours["Content-Security-Policy"]

    def exempt():
        response = HttpResponse()
        response._csp_exempt = True
        return response

    assert _headers(CSPMiddleware, exempt) == {}


def test_a_nonce_asked_for_goes_through_django_csp():
    def with_nonce(request):
        return HttpResponse(str(request.csp_nonce))

    policy = {"DIRECTIVES": {"script-src": ["'self'", NONCE]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        response = CSPMiddleware(with_nonce)(RequestFactory().get("/admin/"))
        nonce = response.content.decode()
        assert f"script-src 'self' 'nonce-{nonce}'" in response["Content-Security-Policy"]
        # without a nonce asked for, the text built once (no nonce)
        cached = _headers(CSPMiddleware, HttpResponse)["Content-Security-Policy"]
        assert cached == _headers(LibraryCSPMiddleware, HttpResponse)["Content-Security-Policy"]
        assert "nonce" not in cached
