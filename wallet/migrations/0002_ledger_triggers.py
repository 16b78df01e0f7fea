"""Database-side ledger invariants (ADR 0003).

PostgreSQL: cached balances kept by a statement trigger on entry insert; a deferred constraint
trigger proving every transaction balances per currency at commit; append-only entries and
transactions; a forward-only bonus state machine.
SQLite (embedded default): only the balance trigger (rounding to 8 places, because SQLite does
NUMERIC arithmetic in binary floating point); the services check the balance in Python.
"""

from django.db import migrations

PG_CREATE = r"""
CREATE FUNCTION wallet_entry_apply_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE wallet_account a
       SET balance = a.balance + d.total
      FROM (SELECT account_id, SUM(amount) AS total FROM new_entries GROUP BY account_id) d
     WHERE a.id = d.account_id AND a.player_id IS NOT NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER wallet_entry_balance AFTER INSERT ON wallet_entry
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION wallet_entry_apply_balance();

CREATE FUNCTION wallet_transaction_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced record;
BEGIN
    SELECT a.currency_id, SUM(e.amount) AS total INTO unbalanced
      FROM wallet_entry e JOIN wallet_account a ON a.id = e.account_id
     WHERE e.transaction_id = NEW.transaction_id
     GROUP BY a.currency_id
    HAVING SUM(e.amount) <> 0
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance in % (sum %)',
            NEW.transaction_id, unbalanced.currency_id, unbalanced.total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER wallet_entry_balanced AFTER INSERT ON wallet_entry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION wallet_transaction_check_balanced();

CREATE FUNCTION wallet_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: correct it with a reversing transaction', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER wallet_entry_append_only BEFORE UPDATE OR DELETE ON wallet_entry
    FOR EACH ROW EXECUTE FUNCTION wallet_append_only();
CREATE TRIGGER wallet_transaction_append_only BEFORE UPDATE OR DELETE ON wallet_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION wallet_append_only();

CREATE FUNCTION wallet_bonus_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
        (OLD.status = 'pending' AND NEW.status IN ('active', 'cancelled'))
        OR (OLD.status = 'active'
            AND NEW.status IN ('completed', 'expired', 'forfeited', 'cancelled'))
    ) THEN
        RAISE EXCEPTION 'bonus % may not go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER wallet_bonus_forward_only BEFORE UPDATE ON wallet_bonus
    FOR EACH ROW EXECUTE FUNCTION wallet_bonus_forward_only();
"""

PG_DROP = r"""
DROP TRIGGER IF EXISTS wallet_bonus_forward_only ON wallet_bonus;
DROP TRIGGER IF EXISTS wallet_transaction_append_only ON wallet_ledgertransaction;
DROP TRIGGER IF EXISTS wallet_entry_append_only ON wallet_entry;
DROP TRIGGER IF EXISTS wallet_entry_balanced ON wallet_entry;
DROP TRIGGER IF EXISTS wallet_entry_balance ON wallet_entry;
DROP FUNCTION IF EXISTS wallet_bonus_forward_only();
DROP FUNCTION IF EXISTS wallet_append_only();
DROP FUNCTION IF EXISTS wallet_transaction_check_balanced();
DROP FUNCTION IF EXISTS wallet_entry_apply_balance();
"""

SQLITE_CREATE = """
CREATE TRIGGER wallet_entry_balance AFTER INSERT ON wallet_entry
BEGIN
    UPDATE wallet_account SET balance = ROUND(balance + NEW.amount, 8)
     WHERE id = NEW.account_id AND player_id IS NOT NULL;
END
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS wallet_entry_balance"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE, params=None)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("wallet", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
