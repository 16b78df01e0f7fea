"""Seed the documented defaults as staff-editable rows (safety/defaults.py), and schedule the
nightly `safety.tasks.fraud_scan` through django-celery-beat (editable in the admin)."""

import json

from django.db import migrations

from safety import defaults

TASK_NAME = "safety: nightly fraud scan"


def seed(apps, schema_editor):
    HouseEdge = apps.get_model("safety", "HouseEdge")
    SignalWeight = apps.get_model("safety", "SignalWeight")
    SafetyPolicy = apps.get_model("safety", "SafetyPolicy")
    for category, edge in defaults.DEFAULT_HOUSE_EDGES.items():
        HouseEdge.objects.get_or_create(game_category=category, game_id="", defaults={"edge": edge})
    for signal, (weight, description) in defaults.SIGNAL_WEIGHTS.items():
        SignalWeight.objects.get_or_create(
            signal=signal, defaults={"weight": weight, "description": description}
        )
    SafetyPolicy.objects.get_or_create(pk=1)
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    nightly, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="3", day_of_week="*", day_of_month="*", month_of_year="*"
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": "safety.tasks.fraud_scan", "crontab": nightly, "kwargs": json.dumps({})},
    )


def unseed(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("safety", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(seed, unseed)]
