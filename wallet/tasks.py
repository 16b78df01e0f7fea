"""Celery tasks of the wallet: thin wrappers around services (scheduled by django-celery-beat)."""

from celery import shared_task

from wallet.services.bonuses import bonuses_expire as bonuses_expire_service


@shared_task(name="wallet.tasks.bonuses_expire")
def bonuses_expire() -> int:
    return bonuses_expire_service()
