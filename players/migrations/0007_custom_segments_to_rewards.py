"""Custom segments now belong to `rewards` (rewards 0001 took over the tables)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("players", "0006_activity_indexes"),
        ("rewards", "0001_custom_segments_from_players"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="CustomSegmentMembership"),
                migrations.DeleteModel(name="CustomSegment"),
            ],
            database_operations=[],
        )
    ]
