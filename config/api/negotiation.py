"""Content negotiation whose answers are remembered (ADR 0029): DRF's, computed once per kind of
request instead of on every request of a hot view.

DRF's `DefaultContentNegotiation` picks the renderer from the view's renderer classes, the
format (a URL suffix or `?format=`) and the `Accept` header, and the parser from the parser
classes and the `Content-Type` header: nothing else. It parses those headers on every request
(about 60 Python calls of a `POST events/`). `RememberingContentNegotiation` asks DRF the first
time a combination is seen and keeps which of the request's renderer (parser) instances it
chose — by position, since DRF builds new instances per request — and the media type; a
refusal (406, or 404 for an unknown format) is not remembered and is raised by DRF each time.
The number of combinations kept is bounded (headers are the client's): beyond it DRF answers.
"""

from rest_framework.negotiation import DefaultContentNegotiation

MAX_REMEMBERED = 256


class RememberingContentNegotiation(DefaultContentNegotiation):
    renderers_chosen: dict = {}  # (renderer classes, format, Accept) -> (position, media type)
    parsers_chosen: dict = {}  # (parser classes, Content-Type) -> position or None

    def select_renderer(self, request, renderers, format_suffix=None):
        meta = request._request.META
        # `format` as DRF reads it; without a query string there is no ?format= to read
        format_ = format_suffix or (
            request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
            if meta.get("QUERY_STRING")
            else None
        )
        key = (tuple(map(type, renderers)), format_, meta.get("HTTP_ACCEPT"))
        chosen = self.renderers_chosen.get(key)
        if chosen is not None:
            return renderers[chosen[0]], chosen[1]
        renderer, media_type = super().select_renderer(request, renderers, format_suffix)
        if len(self.renderers_chosen) < MAX_REMEMBERED:
            position = next(i for i, candidate in enumerate(renderers) if candidate is renderer)
            self.renderers_chosen[key] = (position, media_type)
        return renderer, media_type

    def select_parser(self, request, parsers):
        key = (tuple(map(type, parsers)), request.content_type)
        try:
            position = self.parsers_chosen[key]
        except KeyError:
            parser = super().select_parser(request, parsers)
            position = None
            if parser is not None:
                position = next(i for i, candidate in enumerate(parsers) if candidate is parser)
            if len(self.parsers_chosen) < MAX_REMEMBERED:
                self.parsers_chosen[key] = position
            return parser
        return None if position is None else parsers[position]
