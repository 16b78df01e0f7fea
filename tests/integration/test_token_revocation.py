"""A revoked token is refused at once by every gunicorn worker (each keeps a token cache): the
revocation bumps the shared auth generation in Redis that every request checks."""

import http.client
import os

import pytest
from django.core.management import call_command

from accounts.models import ApiToken

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def get(port: int, authorization: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/api/v1/segments/distribution/", headers={"Authorization": authorization})
    status = conn.getresponse().status
    conn.close()
    return status


def test_revocation_takes_effect_at_once_on_every_worker(gunicorn_server):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL: the shared cache of the workers")
    port, authorization = gunicorn_server
    assert [get(port, authorization) for _ in range(20)] == [200] * 20  # cached in both workers
    token = ApiToken.objects.get(user__username="test-service")
    call_command("revoke_token", token.prefix)
    assert [get(port, authorization) for _ in range(20)] == [401] * 20
