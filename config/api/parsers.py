"""Request parsers: JSON bodies are bounded by DATA_UPLOAD_MAX_MEMORY_SIZE like form bodies.

DRF's JSONParser reads the request stream itself, so Django's limit (which only guards
`request.body` and `request.POST`) never applies to it; a 10 MB event batch would be parsed
in full. This parser reads at most the limit and answers 413 beyond it.
"""

import io

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and stream is not None:
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise RequestDataTooBig("The request body is larger than allowed.")
            stream = io.BytesIO(body)
        return super().parse(stream, media_type, parser_context)
