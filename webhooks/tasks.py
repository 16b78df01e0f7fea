"""Celery tasks of the webhooks app: deliver one, and the beat job that re-queues due ones."""

from celery import shared_task

from webhooks import services


@shared_task(name=services.DELIVER_TASK, acks_late=True, ignore_result=True)
def webhook_deliver(delivery_id: str) -> str | None:
    return services.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="webhooks.dispatch_due", ignore_result=True)
def webhooks_dispatch_due() -> int:
    return services.deliveries_due_queue()
