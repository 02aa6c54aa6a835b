"""Schedule the webhook sweeper (every minute) in django-celery-beat's DatabaseScheduler tables."""

from django.db import migrations

TASK_NAME = "webhooks: queue stored but unprocessed deliveries"


def schedule_sweeper(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "webhooks.tasks.webhook_logs_sweep_task",
            "interval": every_minute,
            "queue": "webhooks",
            "enabled": True,
            "description": "Queues deliveries stored while the broker was down, lost messages and stuck claims.",
        },
    )


def unschedule_sweeper(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_sweeper, unschedule_sweeper)]
