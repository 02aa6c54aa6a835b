"""A WSGI fast path for the webhook receiver: the same Django view, without the middleware stack.

Every middleware in settings.MIDDLEWARE is for browsers and staff (sessions, auth, messages, CSRF,
clickjacking and HSTS headers, htmx, slash redirects); none does anything for a signed
server-to-server POST, yet together they cost about as much as the rest of a bare request.
`config.wsgi` sends exactly the receiver's path here and everything else to Django's usual
handler. Django's request signals still fire (so database connections are recycled as usual),
and the URLconf still resolves the view, so the receiver behaves exactly as it does behind the
middleware (tests/webhooks/views/test_wsgi_fast_path.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.urls import reverse


class MiddlewareFreeWSGIHandler(WSGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._middleware_chain = convert_exception_to_response(self._get_response)


def with_webhook_fast_path(application: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """Wrap the project's WSGI application: the receiver's exact path skips the middleware."""
    receiver_path = reverse("webhooks-shopify-receive")
    receiver = MiddlewareFreeWSGIHandler()

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # Only without a SCRIPT_NAME prefix: then PATH_INFO is exactly what the URLconf matched.
        if environ.get("PATH_INFO") == receiver_path and not environ.get("SCRIPT_NAME"):
            return receiver(environ, start_response)
        return application(environ, start_response)

    return dispatch
