"""Seed the jurisdiction limits SPEC §6 names: GB caps wagering at 10×, SE allows one welcome
bonus per player. They are data: staff edit them in the admin."""

from decimal import Decimal

from django.db import migrations


def seed(apps, schema_editor):
    JurisdictionLimit = apps.get_model("rewards", "JurisdictionLimit")
    JurisdictionLimit.objects.get_or_create(
        country="GB",
        kind="max_wagering_multiplier",
        defaults={"value": Decimal(10), "note": "UKGC: wagering requirement at most 10×"},
    )
    JurisdictionLimit.objects.get_or_create(
        country="SE",
        kind="one_welcome_bonus",
        defaults={"note": "Spelinspektionen: a bonus only at the first game occasion"},
    )


class Migration(migrations.Migration):
    dependencies = [("rewards", "0002_rules")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
