"""Conformance of the Valkyrie adapter with ../shared/specs/valkyrie-pam_api.yml: schemathesis
generates requests for every operation against a live server; no answer may be a 5xx, and every
answer must match the spec's status codes and schemas. A wrong API token is 401 everywhere.

Skipped (with the reason) when ../shared is not next to the repository."""

from pathlib import Path

import pytest
import schemathesis

from players.models import EventReceipt
from tests.schemathesis_checks import CONFORMANCE, operation_run
from tests.wallet.conftest import D, deposit, key, player_make
from tests.wallet.valkyrie import PREFIX, Valkyrie
from wallet import services

SPEC = Path(__file__).resolve().parents[2] / ".." / "shared" / "specs" / "valkyrie-pam_api.yml"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not SPEC.exists(), reason=f"no Valkyrie spec at {SPEC} (../shared absent)"),
]
EXAMPLES = 20
# Conformance checks only: schemathesis's heuristic that a schema-valid request is never a 4xx
# (`positive_data_acceptance`) contradicts the spec itself, which answers 400 to a
# getTransactions naming neither providerTransactionId nor providerBetRef (both optional).
CHECKS = CONFORMANCE


@pytest.fixture
def schema():
    return schemathesis.openapi.from_path(str(SPEC))


@pytest.fixture
def vk(transactional_db):
    """A funded player with an active bonus (so bets meet its max bet and wagering)."""
    player = player_make(country="DE")
    deposit(player, "500.00")
    services.bonus_grant(
        player=player,
        currency="EUR",
        amount=D("50.00"),
        wagering_multiplier=D("10"),
        idempotency_key=key(),
        max_bet=D("100.00"),
    )
    return Valkyrie(player)


def _operations(schema):
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6, [op.label for op in operations]
    return operations


def _run(operation, body, *, max_examples: int = EXAMPLES) -> None:
    operation_run(operation, body, max_examples=max_examples)


def test_every_answer_conforms_to_the_spec(schema, vk, live_server):
    base_url = live_server.url + PREFIX

    def exercise(case):
        case.headers = {**(case.headers or {}), **_auth(vk)}
        if case.method == "PUT":  # a refresh ends its session: refresh a fresh one each time
            case.headers["X-Player-Token"] = vk.session_for(vk.player)
        case.query = {**(case.query or {}), "provider": "Evolution"}
        if case.path_parameters and "playerId" in case.path_parameters:
            case.path_parameters["playerId"] = vk.player.external_id
        if isinstance(case.body, dict) and "currency" in case.body:
            case.body["currency"] = "EUR"  # get past the currency check into the wallet
        response = case.call(base_url=base_url)
        assert response.status_code < 500, (case.method, case.path, response.text)
        case.validate_response(response, checks=CHECKS)

    for operation in _operations(schema):
        examples = EXAMPLES * 2 if operation.method.upper() == "POST" else EXAMPLES
        _run(operation, exercise, max_examples=examples)
    # generated transactions got past authentication and validation into the ingestion path
    assert EventReceipt.objects.filter(external_id__startswith=vk.aggregator.source).exists()


def test_as_generated_requests_conform_too(schema, vk, live_server):
    """Generated player ids, tokens and currencies: mostly refusals, all in the spec's shapes."""
    base_url = live_server.url + PREFIX

    def exercise(case):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {vk.api_token}"}
        response = case.call(base_url=base_url)
        assert response.status_code < 500, (case.method, case.path, response.text)
        case.validate_response(response, checks=CHECKS)

    for operation in _operations(schema):
        _run(operation, exercise, max_examples=8)


def test_a_wrong_api_token_is_401_everywhere(schema, vk, live_server):
    base_url = live_server.url + PREFIX

    def exercise(case):
        case.headers = {
            **(case.headers or {}),
            **_auth(vk),
            "Authorization": "Bearer wrong-token",
        }
        response = case.call(base_url=base_url)
        assert response.status_code == 401, (case.method, case.path, response.text)
        assert response.json()["error"]["code"] == "PAM_ERR_API_TOKEN"
        case.validate_response(response, checks=CHECKS)

    for operation in _operations(schema):
        _run(operation, exercise, max_examples=3)


def _auth(vk: Valkyrie) -> dict:
    return {
        "Authorization": f"Bearer {vk.api_token}",
        "X-Player-Token": vk.token,
        "X-Correlation-ID": "conformance",
    }
