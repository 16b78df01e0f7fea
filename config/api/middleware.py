"""Refuse API bodies whose declared length is over the limit, before anything runs (413).

This answers early, for any content type and before authentication, from Content-Length
alone. Bodies without a declared length (chunked) are bounded while parsed by
`config.api.parsers.BoundedJSONParser`. Multipart uploads (imports) stream to disk and are
exempt.
"""

from django.conf import settings
from django.http import JsonResponse

from config.api.errors import error_body


class JsonBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/") and not request.content_type.startswith("multipart/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                message = f"The request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
                return JsonResponse(error_body("payload_too_large", message), status=413)
        return self.get_response(request)
