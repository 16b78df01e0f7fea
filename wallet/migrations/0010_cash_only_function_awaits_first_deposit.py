"""`wallet_cash_only_post` waits for a player's first deposit still in flight (ADR 0032).

Until now a bet, withdrawal or win of a player with no cash account visible to the function
answered `fallback`. Under the API's load a player's first bet often arrives while the first
deposit's transaction, which opened the cash account (migration wallet 0009), has not
committed yet: the function's lock saw no account, and the Python path then locked, looked up,
inserted the account with the ORM (that insert waited on the UNIQUE key for the deposit to
commit), locked again and posted — about eight statements instead of one (measured: ~500 of
2,200 events of the API benchmark).

Now such an operation probes for the account inside the function, in a `BEGIN … EXCEPTION`
sub-block: `INSERT … ON CONFLICT DO NOTHING RETURNING id` on the cash account's UNIQUE key waits
for a concurrent first deposit's uncommitted insert. A conflict means that deposit committed:
the function locks the player's accounts again (the same pk-order lock, which also sees a bonus
account made meanwhile and then falls back) and decides and posts as for any cash-only player.
An insert that went through means the player has no cash account at all: the sub-block raises,
which undoes the insert (so no empty account is left behind, even by an autocommit call), and
the function answers `fallback`, as before — the Python path makes the account in the
transaction its refusal rolls back. Deposits are unchanged (migration wallet 0009). Outcomes,
balances, refusals, lock order and idempotency are those of migration wallet 0009; the probe is
entered only when no cash account was visible, so every other call costs what it cost.
"""

import importlib

from django.db import migrations

PG_REPLACE = r"""
CREATE OR REPLACE FUNCTION wallet_cash_only_post(
    p_kind text,                -- deposit | withdrawal | bet | win
    p_player bigint,
    p_currency text,
    p_amount numeric,           -- validated by the caller: > 0 (a win: >= 0)
    p_key text,                 -- the idempotency key
    p_activity bigint,          -- the ledger transaction's activity (NULL: none)
    p_details jsonb,            -- the transaction's details (a win: without "bets")
    p_created_at timestamptz,
    p_bets bigint[],            -- a win: the bets it settles (empty: none)
    p_source text,              -- a bet with an activity: its source, external id, reference,
    p_external_id text,         -- round, for the remembered-rollback refusal (NULL source:
    p_reference_id text,        -- no check)
    p_round_id text,
    OUT outcome text,
    OUT transaction_id bigint,
    OUT balance numeric,
    OUT bets bigint[]
) LANGUAGE plpgsql AS $$
DECLARE
    account record;
    cash_id bigint;
    probed bigint;  -- a cash account the probe inserted (then undone)
    cash_balance numeric;
    house_id bigint;
    delta numeric;  -- what the cash account gains
BEGIN
    -- The lock of wallet/locks.py: the player's open cash and bonus accounts, pk order. A
    -- second pass only after the probe below found a cash account committed since the first.
    FOR attempt IN 1..2 LOOP
        FOR account IN
            SELECT a.id, a.kind, a.balance FROM wallet_account a
             WHERE a.player_id = p_player AND a.currency_id = p_currency AND a.is_open
               AND a.kind IN ('cash', 'bonus')
             ORDER BY a.id
               FOR UPDATE
        LOOP
            IF account.kind <> 'cash' THEN
                outcome := 'fallback';  -- bonus money: the Python path decides
                RETURN;
            END IF;
            cash_id := account.id;
            cash_balance := account.balance;
        END LOOP;
        EXIT WHEN cash_id IS NOT NULL OR p_kind = 'deposit' OR attempt = 2;
        -- Migration wallet 0010: no cash account visible to a bet, withdrawal or win. The
        -- player's first deposit may be in flight (the API's deposit, then a bet 5 ms later):
        -- the insert on the cash account's UNIQUE key waits for it. A conflict means it
        -- committed: lock again and decide here. An insert that went through means the player
        -- has no cash account at all: the raise undoes it (the sub-block is a savepoint, so no
        -- empty account outlives an autocommit call) and the Python path answers, as before.
        BEGIN
            INSERT INTO wallet_account (player_id, currency_id, kind, bonus_id, balance,
                is_open, created_at)
            VALUES (p_player, p_currency, 'cash', NULL, 0, true, p_created_at)
            ON CONFLICT DO NOTHING
            RETURNING id INTO probed;
            IF probed IS NOT NULL THEN
                RAISE EXCEPTION 'no cash account' USING ERRCODE = 'PBW01';
            END IF;
        EXCEPTION WHEN SQLSTATE 'PBW01' THEN
            outcome := 'fallback';  -- the Python path creates the cash account (and refuses)
            RETURN;
        END;
    END LOOP;
    IF cash_id IS NULL AND p_kind <> 'deposit' THEN
        outcome := 'fallback';  -- unreachable while cash accounts are never closed
        RETURN;
    END IF;
    SELECT h.id INTO house_id FROM wallet_account h
     WHERE h.player_id IS NULL AND h.currency_id = p_currency
       AND h.kind = CASE WHEN p_kind IN ('bet', 'win') THEN 'house_game' ELSE 'house_bank' END;
    IF house_id IS NULL THEN
        outcome := 'fallback';  -- the Python path creates the house account
        RETURN;
    END IF;
    IF cash_id IS NULL THEN
        -- A first deposit opens the cash account, as wallet/ledger.py `cash_account_id` does: a
        -- concurrent first deposit's row wins the UNIQUE key (this one waits for it), and a
        -- closed cash account is left to the Python path (nothing written then).
        INSERT INTO wallet_account (player_id, currency_id, kind, bonus_id, balance, is_open,
            created_at)
        VALUES (p_player, p_currency, 'cash', NULL, 0, true, p_created_at)
        ON CONFLICT DO NOTHING;
        SELECT a.id, a.balance INTO cash_id, cash_balance FROM wallet_account a
         WHERE a.player_id = p_player AND a.currency_id = p_currency AND a.is_open
           AND a.kind = 'cash'
           FOR UPDATE;
        IF cash_id IS NULL THEN
            outcome := 'fallback';
            RETURN;
        END IF;
    END IF;
    balance := cash_balance;

    IF p_kind = 'deposit' OR p_kind = 'win' THEN
        delta := p_amount;
    ELSIF p_kind = 'withdrawal' OR p_kind = 'bet' THEN
        delta := -p_amount;
    ELSE
        RAISE EXCEPTION 'wallet_cash_only_post: unknown kind %', p_kind
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- wallet/services/gaming.py `_bet_refuse_if_rolled_back`
    IF p_kind = 'bet' AND p_source IS NOT NULL AND EXISTS (
        SELECT 1 FROM wallet_rememberedrollback r
         WHERE r.player_id = p_player AND r.source = p_source
           AND (r.reference_id = p_external_id
                OR (p_reference_id <> '' AND r.reference_id = p_reference_id)
                OR (p_round_id <> '' AND r.reference_id = '' AND r.round_id = p_round_id))
    ) THEN
        outcome := 'bet_rolled_back';
        RETURN;
    END IF;
    IF (p_kind = 'bet' OR p_kind = 'withdrawal') AND cash_balance < p_amount THEN
        outcome := 'insufficient_funds';
        RETURN;
    END IF;
    IF p_kind = 'win' THEN
        -- the bets not rolled back, in the order given (`_bets_unreversed`)
        SELECT coalesce(array_agg(t.id ORDER BY t.n), '{}') INTO bets
          FROM unnest(p_bets) WITH ORDINALITY AS t(id, n)
         WHERE NOT EXISTS (SELECT 1 FROM wallet_ledgertransaction r WHERE r.reverses_id = t.id);
        IF cardinality(p_bets) > 0 AND cardinality(bets) = 0 THEN
            outcome := 'already_rolled_back';
            RETURN;
        END IF;
        p_details := p_details || jsonb_build_object('bets', to_jsonb(bets));
    END IF;

    INSERT INTO wallet_ledgertransaction (kind, idempotency_key, player_id, activity_id,
        bonus_id, reverses_id, details, reason, created_by_id, created_at)
    VALUES (p_kind, p_key, p_player, p_activity, NULL, NULL, p_details, '', NULL, p_created_at)
    RETURNING id INTO transaction_id;
    -- the legs in the Python path's order (a bet: cash first); a zero win has none
    IF p_kind = 'bet' THEN
        INSERT INTO wallet_entry (transaction_id, account_id, amount)
        VALUES (transaction_id, cash_id, delta), (transaction_id, house_id, -delta);
    ELSIF delta <> 0 THEN
        INSERT INTO wallet_entry (transaction_id, account_id, amount)
        VALUES (transaction_id, house_id, -delta), (transaction_id, cash_id, delta);
    END IF;
    outcome := 'posted';
    balance := cash_balance + delta;
END $$;
"""


def replace(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_REPLACE, params=None)


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        previous = importlib.import_module("wallet.migrations.0009_cash_only_function_opens_cash")
        schema_editor.execute(previous.PG_REPLACE, params=None)


class Migration(migrations.Migration):
    dependencies = [("wallet", "0009_cash_only_function_opens_cash")]
    operations = [migrations.RunPython(replace, restore)]
