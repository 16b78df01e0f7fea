"""Custom segments move from `players` to `rewards`: state only, the tables stay as they are."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("players", "0006_activity_indexes")]

    state_operations = [
        migrations.CreateModel(
            name="CustomSegment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.SlugField(max_length=64, unique=True)),
                ("description", models.CharField(blank=True, max_length=255)),
                ("expression", models.TextField()),
                ("active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={"db_table": "players_customsegment"},
        ),
        migrations.CreateModel(
            name="CustomSegmentMembership",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("since", models.DateTimeField(auto_now_add=True)),
                ("segment", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="memberships", to="rewards.customsegment")),
                ("player", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="custom_memberships", to="players.player")),
            ],
            options={
                "db_table": "players_customsegmentmembership",
                "constraints": [models.UniqueConstraint(fields=("segment", "player"), name="custom_membership_unique")],
            },
        ),
    ]  # fmt: skip

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations, database_operations=[])
    ]
