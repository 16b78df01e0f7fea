"""API middleware: request bodies (size, chunked transfer) and the one error shape.

`JsonBodyLimitMiddleware` refuses API bodies whose declared length is over the limit, before
anything runs (413), for any content type and before authentication, from Content-Length
alone. It reads and discards such a body (up to `DRAIN_MAX_BYTES`) before answering: a server
that answers while the client is still sending and then closes the socket makes the client see
a broken connection instead of the 413 (gunicorn does exactly that). A body sent with
`Transfer-Encoding: chunked` has no declared length; Django would read it as empty, so it is
read here (bounded the same way; uploads up to `PITBOSS["MAX_UPLOAD_BYTES"]`, spooled to disk)
and handed on with its length. Multipart uploads (imports) with a declared length stream to
disk and are exempt from the JSON limit.

`QueryNulMiddleware` refuses (400 `invalid`) an /api/v1/ query string holding a NUL character
(`%00`): PostgreSQL text cannot hold one, so a query parameter a view hands to a filter would
otherwise fail in the database (a 500), whichever view reads it. It sits below the security
headers' middleware (X-Frame-Options, CSP), so its answer carries them like any view's.

`ApiErrorShapeMiddleware` turns any error response under /api/ that is not JSON — Django's
HTML 404 page (always shown with DEBUG on, whatever `handler404` says), a 400 for a bad
Host header, a 405 from a plain view — into the API error shape (SPEC §10).
"""

import tempfile
from http import HTTPStatus

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import JsonResponse

from config.api.errors import error_body

DRAIN_MAX_BYTES = 64 * 1024 * 1024
_CHUNK = 64 * 1024


def _drain(stream, length: int) -> None:
    """Read and drop up to `length` bytes (at most DRAIN_MAX_BYTES) of the request body."""
    left = min(length, DRAIN_MAX_BYTES)
    while left > 0:
        chunk = stream.read(min(_CHUNK, left))
        if not chunk:
            return
        left -= len(chunk)


def _too_large(limit: int) -> JsonResponse:
    message = f"The request body is over {limit} bytes."
    return JsonResponse(error_body("payload_too_large", message), status=413)


def _is_chunked(request) -> bool:
    return "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower() and not (
        request.META.get("CONTENT_LENGTH")
    )


def _query_has_nul(request) -> bool:
    query = request.META.get("QUERY_STRING", "")
    return "%00" in query or "\x00" in query


def QueryNulMiddleware(get_response):  # noqa: N802 - a middleware factory, named as a class
    def middleware(request):
        if request.path.startswith("/api/v1/") and _query_has_nul(request):
            message = "A query parameter holds a NUL character, which no value may contain."
            return JsonResponse(error_body("invalid", message), status=400)
        return get_response(request)

    return middleware


class JsonBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            multipart = request.content_type.startswith("multipart/")
            limit = (
                settings.PITBOSS["MAX_UPLOAD_BYTES"]
                if multipart
                else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            )
            if _is_chunked(request):
                body = self._read_chunked(request, limit)
                if body is None:
                    return _too_large(limit)
                with body:
                    return self.get_response(request)
            elif not multipart:
                try:
                    length = int(request.META.get("CONTENT_LENGTH") or 0)
                except ValueError:
                    length = 0
                if length > limit:
                    _drain(request.META["wsgi.input"], length)
                    return _too_large(limit)
        return self.get_response(request)

    @staticmethod
    def _read_chunked(request, limit: int):
        """The chunked body in a spooled file, handed on as the request's stream with its
        length; None when it is over `limit` (read and dropped up to DRAIN_MAX_BYTES)."""
        source = request.META["wsgi.input"]
        # closed by the caller once the view has answered
        body = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
        size = 0
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                body.close()
                _drain(source, DRAIN_MAX_BYTES)
                return None
            body.write(chunk)
        body.seek(0)
        request._stream = LimitedStream(body, size)
        request.META["CONTENT_LENGTH"] = str(size)
        return body


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


class ApiErrorShapeMiddleware:
    """Every 4xx/5xx under /api/ answers `{"error": {"code", "message", "details"}}`."""

    CODES = {
        400: "bad_request",
        401: "not_authenticated",
        403: "permission_denied",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
        500: "server_error",
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.streaming
            and not _is_json(response)
        ):
            status = response.status_code
            code = self.CODES.get(status, "server_error" if status >= 500 else "bad_request")
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = f"HTTP {status}"
            message = "No such endpoint." if status == 404 else f"{phrase}."
            return JsonResponse(error_body(code, message), status=status)
        return response
