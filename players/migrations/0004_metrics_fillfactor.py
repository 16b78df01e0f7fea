"""Leave room in metrics pages so a refresh's UPDATEs stay HOT (no index writes); PostgreSQL only."""

from django.db import migrations


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE players_playermetrics SET (fillfactor = 50)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE players_playermetrics RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("players", "0003_nightly_refresh_schedule")]
    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
