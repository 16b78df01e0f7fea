"""Raw SQL cannot break the books: the database itself refuses it (PostgreSQL triggers, CHECKs)."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction

from tests.wallet.conftest import D
from wallet import services
from wallet.models import Account, Entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def funded(player):
    services.wallet_deposit(
        player=player, currency="EUR", amount=D("10.00"), idempotency_key=uuid.uuid4().hex
    )
    return player


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.mark.postgres
def test_unbalanced_transaction_fails_at_commit(funded):
    cash = Account.objects.get(player=funded, kind="cash")
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        sql(
            "INSERT INTO wallet_ledgertransaction (kind, idempotency_key, player_id, details, "
            "reason, created_at) VALUES ('adjustment', 'raw-1', %s, '{}', '', now())",
            [funded.pk],
        )
        sql(
            "INSERT INTO wallet_entry (transaction_id, account_id, amount) "
            "SELECT id, %s, 5 FROM wallet_ledgertransaction WHERE idempotency_key = 'raw-1'",
            [cash.pk],
        )
        sql("SET CONSTRAINTS ALL IMMEDIATE")  # the commit point inside the test's transaction


def _balanced_raw_transaction(funded, key: str) -> tuple[int, int, int]:
    """A balanced raw transaction (cash +5, house -5) checked immediately; its ids."""
    cash = Account.objects.get(player=funded, kind="cash").pk
    house = Account.objects.get(player=None, currency_id="EUR", kind="house_bank").pk
    sql(
        "INSERT INTO wallet_ledgertransaction (kind, idempotency_key, player_id, details, "
        "reason, created_at) VALUES ('adjustment', %s, %s, '{}', '', now())",
        [key, funded.pk],
    )
    sql(
        "INSERT INTO wallet_entry (transaction_id, account_id, amount) SELECT id, a, x "
        "FROM wallet_ledgertransaction, (VALUES (%s::bigint, 5), (%s::bigint, -5)) v(a, x) "
        "WHERE idempotency_key = %s",
        [cash, house, key],
    )
    sql("SET CONSTRAINTS ALL IMMEDIATE")  # checked: balanced
    sql("SET CONSTRAINTS ALL DEFERRED")
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM wallet_ledgertransaction WHERE idempotency_key = %s", [key])
        return cursor.fetchone()[0], cash, house


@pytest.mark.postgres
@pytest.mark.parametrize("explicit_id", [False, True])
def test_an_entry_added_after_a_passing_check_is_checked_again(funded, explicit_id):
    """The trigger checks a ledger transaction once for the entries that check saw; an entry
    added afterwards (even with an id below the others') is not among them."""
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        posted, cash, _ = _balanced_raw_transaction(funded, "raw-later")
        columns, values = ("id, ", "-7, ") if explicit_id else ("", "")
        sql(
            f"INSERT INTO wallet_entry ({columns}transaction_id, account_id, amount) "
            f"VALUES ({values}%s, %s, 1)",
            [posted, cash],
        )
        sql("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.postgres
def test_a_balanced_raw_transaction_passes_the_check(funded):
    with transaction.atomic():
        _balanced_raw_transaction(funded, "raw-ok")
    assert Entry.objects.filter(transaction__idempotency_key="raw-ok").count() == 2


@pytest.mark.postgres
def test_negative_player_balance_fails(funded):
    cash = Account.objects.get(player=funded, kind="cash")
    with pytest.raises(IntegrityError), transaction.atomic():
        sql("UPDATE wallet_account SET balance = -1 WHERE id = %s", [cash.pk])


@pytest.mark.postgres
def test_entry_driving_balance_negative_fails(funded):
    cash = Account.objects.get(player=funded, kind="cash")
    transaction_id = Entry.objects.filter(account=cash).values_list("transaction_id").first()[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        sql(
            "INSERT INTO wallet_entry (transaction_id, account_id, amount) VALUES (%s, %s, -11)",
            [transaction_id, cash.pk],
        )


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE wallet_entry SET amount = amount * 2",
        "DELETE FROM wallet_entry",
        "UPDATE wallet_ledgertransaction SET reason = 'edited'",
        "DELETE FROM wallet_ledgertransaction",
    ],
)
def test_entries_and_transactions_are_append_only(funded, statement):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        sql(statement)


def test_zero_entry_is_refused(funded):
    cash = Account.objects.get(player=funded, kind="cash")
    transaction_id = Entry.objects.filter(account=cash).values_list("transaction_id").first()[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.create(transaction_id=transaction_id, account=cash, amount=0)


def test_idempotency_key_is_unique(funded):
    with pytest.raises(IntegrityError), transaction.atomic():
        sql(
            "INSERT INTO wallet_ledgertransaction (kind, idempotency_key, details, reason, "
            "created_at) SELECT kind, idempotency_key, details, reason, created_at "
            "FROM wallet_ledgertransaction LIMIT 1"
        )


@pytest.mark.postgres
def test_bonus_state_machine_is_forward_only(funded):
    bonus = services.bonus_grant(
        player=funded,
        currency="EUR",
        amount=D(5),
        wagering_multiplier=D(1),
        idempotency_key=uuid.uuid4().hex,
    )
    services.bonus_forfeit(bonus=bonus, reason="test")
    with pytest.raises(IntegrityError, match="may not go"), transaction.atomic():
        sql("UPDATE wallet_bonus SET status = 'active' WHERE id = %s", [bonus.pk])


def test_reconcile_command_passes_on_clean_books_and_fails_on_drift(funded, capsys):
    from django.core.management import call_command

    call_command("wallet_reconcile")
    assert "no drift" in capsys.readouterr().out
    if connection.vendor == "postgresql":
        sql("SET session_replication_role = replica")  # a superuser bypassing triggers
    try:
        sql("UPDATE wallet_entry SET amount = amount + 1 WHERE amount > 0")
        with pytest.raises(SystemExit) as exit_info:
            call_command("wallet_reconcile")
        assert exit_info.value.code == 1
        assert "cached" in capsys.readouterr().err
    finally:
        sql("UPDATE wallet_entry SET amount = amount - 1 WHERE amount > 0")
        if connection.vendor == "postgresql":
            sql("SET session_replication_role = origin")
