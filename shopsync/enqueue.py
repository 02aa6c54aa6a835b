"""Services enqueue tasks by name, never by importing them.

Tasks sit above services (a task calls its service; R4, R17), so a service that starts background
work cannot import the task: it publishes a message by the task's registered name through the Celery
app instead. The queue comes from CELERY_TASK_ROUTES as for `delay`, and in a process that has the
task registered Celery applies the task's own options too (`Celery.send_task`).

- `task_enqueue_on_commit`: the usual way (R5). The message is published once the surrounding
  transaction commits, as `delay_on_commit` does, so the worker never looks for a row that is not
  there yet; outside a transaction it is published at once.
- `task_send`: publish now, with Celery's publish options (countdown, retry policy). Only for callers
  that publish outside any transaction on purpose (the webhook outbox relay and its batches).

Arguments are ids and other JSON primitives (R4). Every name used is checked against the registered
tasks by tests/shopsync/test_enqueue.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from celery import current_app
from django.db import transaction

type TaskArgument = int | str | bool | list[int] | None


@dataclass(frozen=True, slots=True)
class TaskMessage:
    """One task to publish. It is what a service hands to `transaction.on_commit`, so a test can
    compare the captured callbacks with the messages it expects."""

    name: str
    args: tuple[TaskArgument, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)

    def __call__(self) -> None:
        current_app.send_task(self.name, args=list(self.args), **self.options)


def task_enqueue_on_commit(name: str, *args: TaskArgument) -> None:
    transaction.on_commit(TaskMessage(name, args))


def task_send(name: str, *args: TaskArgument, **options: Any) -> None:
    TaskMessage(name, args, options)()
