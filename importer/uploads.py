"""The upload size cap: refused while the request streams in, never after it is stored (413).

`PITBOSS_IMPORT_MAX_UPLOAD_BYTES` (default 200 MB). A request declaring a larger body is
refused before a byte is read; one without a declared length (chunked) is refused as soon as
the file part passes the cap. Django's temporary upload file is dropped with the request.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler


def upload_limit() -> int:
    return settings.PITBOSS["IMPORT_MAX_UPLOAD_BYTES"]


class UploadTooLarge(RequestDataTooBig):
    def __init__(self):
        super().__init__(f"The upload is larger than {upload_limit():,} bytes.")


class UploadLimitHandler(FileUploadHandler):
    """First of the request's upload handlers: counts the bytes and stops past the cap."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > upload_limit() + 64 * 1024:  # + form fields
            raise UploadTooLarge
        return None

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > upload_limit():
            raise UploadTooLarge
        return raw_data

    def file_complete(self, file_size):
        return None


def upload_limit_install(request) -> None:
    """Put the cap in front of `request`'s upload handlers (before its body is read)."""
    request.upload_handlers.insert(0, UploadLimitHandler(request))
