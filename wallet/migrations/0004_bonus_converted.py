"""Bonus.converted: the cash a grant has paid so far, capped by max_conversion in the database."""

from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("wallet", "0003_bonus_expiry_schedule")]

    operations = [
        migrations.AddField(
            model_name="bonus",
            name="converted",
            field=models.DecimalField(decimal_places=8, default=Decimal("0"), max_digits=20),
        ),
        migrations.AddConstraint(
            model_name="bonus",
            constraint=models.CheckConstraint(
                condition=models.Q(converted__gte=0)
                & (
                    models.Q(max_conversion__isnull=True)
                    | models.Q(converted__lte=models.F("max_conversion"))
                ),
                name="bonus_converted_within_cap",
            ),
        ),
    ]
