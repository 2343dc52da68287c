"""Background tasks (Django tasks API, database-backed worker). Load by id, call an action."""

from __future__ import annotations

from django.tasks import task

from . import publish


@task()
def send_delivery_task(delivery_id: int) -> str:
    return publish.send_delivery(delivery_id).state
