"""The Celery application: background work (emails) and the periodic jobs.

Configured from Django's settings, every Celery setting under the CELERY_
prefix (CELERY_BROKER_URL, CELERY_BEAT_SCHEDULE…), with the tasks of each
app's `tasks.py` and `emails.py` found automatically. Without
CELERY_BROKER_URL tasks run eagerly, in the process that sends them.

    celery -A shopswift worker --loglevel INFO
    celery -A shopswift beat --loglevel INFO
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopswift.settings")

app = Celery("shopswift")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(related_name="emails")
