from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
_django_application = get_wsgi_application()

# After Django is set up: the webhook receiver's path skips the browser middleware (webhooks/wsgi.py).
from webhooks.wsgi import with_webhook_fast_path  # noqa: E402

application = with_webhook_fast_path(_django_application)
