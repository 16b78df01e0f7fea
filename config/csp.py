"""django-csp's middleware, with the policy headers built once per settings instead of per response.

django-csp 4 builds the `Content-Security-Policy` header (and the report-only one) for every
response from the settings: two `dataclasses.asdict` copies and two policy builds, about 240
Python calls per request — 5% of a `POST events/`, 8% of the bare API read
(bench/request_work.py). The text depends only on the settings unless a view asks for a nonce
(`request.csp_nonce`) or decorates its response (`csp_update`, `csp_replace`, `csp_exempt`…);
such responses go through django-csp unchanged, every other one gets the text built for the
settings in force (a new settings object, as `override_settings` makes, builds it again).
"""

import http.client

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as LibraryCSPMiddleware
from csp.utils import build_policy
from django.conf import settings

# what a view sets on its response to change its policy (django-csp's decorators)
PER_RESPONSE = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
DEBUG_EXEMPT = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)


class CSPMiddleware(LibraryCSPMiddleware):
    _built: tuple | None = None  # (policy setting, report-only setting, header, report-only)

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in PER_RESPONSE
        ):
            return super().process_response(request, response)
        if response.status_code in DEBUG_EXEMPT and settings.DEBUG:
            return response
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        built = CSPMiddleware._built
        if built is None or built[0] is not policy or built[1] is not report_only:
            built = (policy, report_only, build_policy(), build_policy(report_only=True))
            CSPMiddleware._built = built
        for header, text, setting, exempt in (
            (HEADER, built[2], policy, "_csp_exempt"),
            (HEADER_REPORT_ONLY, built[3], report_only, "_csp_exempt_ro"),
        ):
            if text and header not in response and getattr(response, exempt, False) is False:
                prefixes = (setting or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
                if not request.path_info.startswith(tuple(prefixes)):
                    response[header] = text
        # as django-csp: a nonce asked for after the header is written is an error
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
