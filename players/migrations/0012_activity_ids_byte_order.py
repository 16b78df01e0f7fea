"""The activity's `source` and `external_id` compare in byte order (`COLLATE "C"`) on
PostgreSQL (ADR 0034).

They are opaque identifiers: no user reads them in alphabetical order, and equality means the
same in every deterministic collation. But every comparison in the unique index
(source, external_id) and every sort of an import's rows by id went through the database's
linguistic collation (`strcoll`; `C.UTF-8` here, `en_US.UTF-8` elsewhere): the load of
1,000,000 rows sorted them in 1.9–2.2 s instead of 0.8 s, and its INSERT used 12.6–13.8 s of the
backend's CPU instead of 10.7 s. SQLite already compares text as bytes (BINARY), so both
databases now order ids alike.

Django's model field cannot declare the collation (SQLite has no "C"), so the models are
unchanged and this runs on PostgreSQL only. A later migration that alters either field's type
would reset the collation to the default: tests/players/test_activity_id_collation.py fails
then. Altering only the collation rewrites no row; PostgreSQL rebuilds the indexes on the two
columns (the unique key and the live-round partial index) under an ACCESS EXCLUSIVE lock.
"""

from django.db import migrations

COLUMNS = (("source", 32), ("external_id", 200))


def _collate(collation: str):
    alters = ", ".join(
        f'ALTER COLUMN {column} TYPE varchar({length}) COLLATE "{collation}"'
        for column, length in COLUMNS
    )

    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE players_activity {alters}")

    return run


class Migration(migrations.Migration):
    dependencies = [("players", "0011_drop_pattern_indexes")]

    operations = [migrations.RunPython(_collate("C"), _collate("default"))]
