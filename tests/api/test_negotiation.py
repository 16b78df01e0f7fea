"""config/api/negotiation.py: the remembered negotiation answers as DRF's does, on the first
request of a kind and on every later one, refusals included (ADR 0029)."""

import pytest
from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from config.api.negotiation import RememberingContentNegotiation
from wallet.api_events import EventsView

ACCEPTS = [
    None, "", "*/*", "application/json", "application/json; indent=4", "text/html",
    "application/xml", "text/html;q=0.9, application/json", "application/*",
    "application/json;q=0.5, text/html;q=0.9", "*/*;q=0.1, application/json; version=2",
    "garbage", ",,,", "text/*",
]  # fmt: skip
QUERIES = ["", "format=json", "format=api", "format=xml", "x=1", "format="]
CONTENT_TYPES = [
    "application/json", "application/json; charset=utf-8", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "text/plain", "", "application/*",
]  # fmt: skip


def _request(accept: str | None, query: str = "", content_type: str = "") -> Request:
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    django_request = APIRequestFactory().post(
        f"/api/v1/events/?{query}" if query else "/api/v1/events/", **extra
    )
    django_request.META["CONTENT_TYPE"] = content_type
    return Request(django_request)


def _renderer_answer(negotiation, request, suffix=None):
    view = EventsView()
    renderers = view.get_renderers()
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers, suffix)
    except (NotAcceptable, Http404) as refusal:
        return type(refusal)
    return renderers.index(renderer), type(renderer), media_type


@pytest.fixture(autouse=True)
def _nothing_remembered(monkeypatch):
    monkeypatch.setattr(RememberingContentNegotiation, "renderers_chosen", {})
    monkeypatch.setattr(RememberingContentNegotiation, "parsers_chosen", {})


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("accept", ACCEPTS)
def test_the_renderer_is_drfs_first_and_later(accept, query):
    expected = _renderer_answer(DefaultContentNegotiation(), _request(accept, query))
    for _ in range(2):  # asked, then remembered
        found = _renderer_answer(RememberingContentNegotiation(), _request(accept, query))
        assert found == expected


@pytest.mark.parametrize("suffix", ["json", "api", "xml"])
def test_a_format_suffix_is_part_of_the_question(suffix):
    expected = _renderer_answer(DefaultContentNegotiation(), _request("*/*"), suffix)
    for _ in range(2):
        assert _renderer_answer(RememberingContentNegotiation(), _request("*/*"), suffix) == (
            expected
        )


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_the_parser_is_drfs_first_and_later(content_type):
    parsers = EventsView().get_parsers()
    expected = DefaultContentNegotiation().select_parser(_request(None, "", content_type), parsers)
    for _ in range(2):
        parsers = EventsView().get_parsers()
        found = RememberingContentNegotiation().select_parser(
            _request(None, "", content_type), parsers
        )
        assert type(found) is type(expected)
        assert found is None or found in parsers  # this request's own instance


def test_the_kept_answers_are_bounded(monkeypatch):
    monkeypatch.setattr("config.api.negotiation.MAX_REMEMBERED", 2)
    for accept in ["application/json", "*/*", "text/html", "application/*"]:
        _renderer_answer(RememberingContentNegotiation(), _request(accept))
    assert len(RememberingContentNegotiation.renderers_chosen) == 2
