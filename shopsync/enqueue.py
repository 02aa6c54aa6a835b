"""Services enqueue tasks by name, never by importing them.

Tasks sit above services (a task calls its service; R4, R17), so a service that starts background
work cannot import the task: it publishes a message by the task's registered name through the Celery
app instead. The queue comes from CELERY_TASK_ROUTES as for `delay` unless the caller names one, and in a process that has the
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

import logging
from dataclasses import dataclass, field
from typing import Any

from celery import current_app
from django.db import transaction
from kombu.exceptions import KombuError

logger = logging.getLogger(__name__)

type TaskArgument = int | str | bool | list[int] | None


@dataclass(frozen=True, slots=True)
class TaskMessage:
    """One task to publish. It is what a service hands to `transaction.on_commit`, so a test can
    compare the captured callbacks with the messages it expects."""

    name: str
    args: tuple[TaskArgument, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    # Log a publish that fails (the broker down) instead of raising it to the code that committed: for
    # work something else dispatches again (a queued sync session: the watchdog).
    tolerate_publish_failure: bool = False

    def __call__(self) -> None:
        try:
            current_app.send_task(self.name, args=list(self.args), **self.options)
        except (KombuError, OSError) as exc:
            if not self.tolerate_publish_failure:
                raise
            logger.warning(
                "%s%s was not published (%s); it will be dispatched again", self.name, self.args, exc
            )


def task_enqueue_on_commit(
    name: str,
    *args: TaskArgument,
    countdown: float | None = None,
    queue: str | None = None,
    tolerate_publish_failure: bool = False,
) -> None:
    """`countdown`: publish it to run that many seconds later. `queue`: instead of the routed one
    (a sync run goes to its kind's queue, `shopsync/queues.py`)."""
    options: dict[str, Any] = {} if countdown is None else {"countdown": countdown}
    if queue is not None:
        options["queue"] = queue
    transaction.on_commit(TaskMessage(name, args, options, tolerate_publish_failure))


def task_send(name: str, *args: TaskArgument, **options: Any) -> None:
    TaskMessage(name, args, options)()
