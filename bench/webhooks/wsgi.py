"""The project's WSGI application with the URLconf imported up front: gunicorn loads it once
(--preload) before forking, so no worker pays the import on its first timed request."""

from __future__ import annotations

from django.urls import get_resolver

from config.wsgi import application

get_resolver().url_patterns  # noqa: B018 (imports every URL module now)

__all__ = ["application"]
