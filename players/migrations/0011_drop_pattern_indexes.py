"""Drop the `varchar_pattern_ops` indexes Django adds on PostgreSQL beside a unique or
foreign-key text column, on the tables every import or event writes: the player's external id
and currency, the event receipt's external id, the activity day's currency (ADR 0031).

They serve only `LIKE 'prefix%'` searches, which nothing runs on these columns (the admin
searches ids by equality; `startswith` appears only in the demo command and tests, on small
tables), and every new player (an import's, an event's first deposit), every event's receipt
and every activity day paid an index insertion for each. The unique constraints and the
foreign keys' plain indexes stay. Django does not track these indexes in its migration state,
so the models are unchanged; its schema editor drops them with IF EXISTS when a later
migration alters the fields.
"""

from django.db import migrations

# (index, table, column) as Django named them
PATTERN_INDEXES = [
    ("players_player_external_id_adc34eb6_like", "players_player", "external_id"),
    ("players_player_currency_id_49d17066_like", "players_player", "currency_id"),
    ("players_eventreceipt_external_id_ecb4a3a8_like", "players_eventreceipt", "external_id"),
    ("players_activityday_currency_id_10333979_like", "players_activityday", "currency_id"),
]
DROP = "".join(f"DROP INDEX IF EXISTS {index};" for index, _, _ in PATTERN_INDEXES)
CREATE = "".join(
    f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({column} varchar_pattern_ops);"
    for index, table, column in PATTERN_INDEXES
)


def _postgres(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("players", "0010_batch_jobs")]

    operations = [migrations.RunPython(_postgres(DROP), _postgres(CREATE))]
