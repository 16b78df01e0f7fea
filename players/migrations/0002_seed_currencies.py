"""Seed the common currencies and starting exchange rates (staff maintain them afterwards)."""

from datetime import UTC, datetime
from decimal import Decimal

from django.db import migrations

# code, name, minor units, value of one unit in EUR (starting rates; staff keep them current)
CURRENCIES = [
    ("EUR", "Euro", 2, "1"),
    ("USD", "US dollar", 2, "0.92"),
    ("GBP", "Pound sterling", 2, "1.17"),
    ("SEK", "Swedish krona", 2, "0.087"),
    ("NOK", "Norwegian krone", 2, "0.085"),
    ("CAD", "Canadian dollar", 2, "0.67"),
    ("BRL", "Brazilian real", 2, "0.17"),
    ("BTC", "Bitcoin", 8, "60000"),
    ("mBTC", "Millibitcoin", 5, "60"),
    ("USDT", "Tether", 6, "0.92"),
]
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def seed(apps, schema_editor):
    Currency = apps.get_model("players", "Currency")
    ExchangeRate = apps.get_model("players", "ExchangeRate")
    for code, name, minor_units, rate in CURRENCIES:
        currency, _ = Currency.objects.get_or_create(
            code=code, defaults={"name": name, "minor_units": minor_units}
        )
        ExchangeRate.objects.get_or_create(
            currency=currency, valid_from=EPOCH, defaults={"rate": Decimal(rate)}
        )


class Migration(migrations.Migration):
    dependencies = [("players", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
