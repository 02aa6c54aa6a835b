"""Browser tests: real headless Chromium (the system's, driven by Playwright) against pytest-django's
live server, and, for the end-to-end ones, a real Celery worker subprocess and the simulator.

Each test saves screenshots of the states it checks under `test-output/screenshots/`.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Browser, Page, sync_playwright

from shopsync.models import Shop, SyncSession
from tests import processes
from tests.processes import ManagedProcess, database_url

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still
# synchronous, so Django's async-safety check (read at call time) would refuse them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = os.environ.get("SHOPSYNC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
QUEUES = ("sync", "sync_backfill", "webhooks", "maintenance")
PASSWORD = "password"  # tests.factories.UserFactory's
# Each pytest-xdist worker starts its own Celery worker, with a log of its own (readiness is read from it).
XDIST_WORKER = f"--{os.environ['PYTEST_XDIST_WORKER']}" if "PYTEST_XDIST_WORKER" in os.environ else ""


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (or set SHOPSYNC_CHROMIUM)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(page: Page, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """`screenshot("stale")` saves test-output/screenshots/<test name>--stale.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test_name = request.node.name.removeprefix("test_")

    def take(state: str) -> Path:
        path = SCREENSHOTS / f"{test_name}--{state}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


LANDING_TIMEOUT_MS = 30_000


@pytest.fixture
def login(page: Page, live_server) -> Callable[..., Page]:
    """Log in through the real login form; lands on the dashboard."""

    def log_in(user, *, path: str = "/") -> Page:
        page.goto(f"{live_server.url}/login/?next={path}")
        page.get_by_label("Username").fill(user.get_username())
        page.get_by_label("Password").fill(PASSWORD)
        # The landing page is the first request after login (the dashboard starts a first sync): on a
        # loaded CI machine it took over the default 10 s once, in the SQLite lane.
        page.get_by_role("button", name="Log in").click(timeout=LANDING_TIMEOUT_MS)
        page.wait_for_url(f"{live_server.url}{path}", timeout=LANDING_TIMEOUT_MS)
        return page

    return log_in


# --- the worker ----------------------------------------------------------------------------------


def _purge_queues() -> None:
    """Drop messages left in our queues (kombu's Redis lists, with their priority variants); the
    exchange bindings stay, another worker of the same test run may rely on them."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        for key in client.keys("*"):
            name = key.split(b"\x06\x16")[0].decode(errors="replace")
            if name in QUEUES and client.type(key) == b"list":
                client.delete(key)
    finally:
        client.close()


@pytest.fixture(scope="module")
def celery_worker(request, django_db_setup, django_db_blocker) -> Iterator[ManagedProcess]:
    """`celery -A config worker` against the test database and the test Redis db. Module-scoped: it
    must not outlive these tests, or it would consume the messages other tests count in the queues."""
    with django_db_blocker.unblock():
        url = database_url()
    _purge_queues()
    worker = processes.celery_worker(
        log_path=ROOT / "test-output" / f"celery-worker--{request.module.__name__.rsplit('.', 1)[-1]}{XDIST_WORKER}.log",
        queues=QUEUES, database_url=url, broker_url=settings.CELERY_BROKER_URL, pool="prefork", concurrency=2,
        name="browser",
    )  # fmt: skip
    try:
        try:
            worker.start(timeout=60)
        except RuntimeError as exc:
            pytest.fail(f"the Celery worker did not start: {exc}")
        yield worker
    finally:
        worker.stop(timeout=20)
        # After the worker is gone: a warm shutdown gives its unacknowledged messages back.
        _purge_queues()


def _wait_for(condition: Callable[[], bool], *, timeout: float, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(interval)


@pytest.fixture
def wait_for() -> Callable[..., None]:
    return _wait_for


# --- the simulator ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimStore:
    domain: str
    token: str
    api_base_url: str


@pytest.fixture
def sim_store(simulator) -> Iterator[SimStore]:
    """A store of its own on the session's simulator (tests change its data and faults)."""
    domain = f"dash-{uuid.uuid4().hex[:10]}.myshopify.com"
    token = f"shpat_{uuid.uuid4().hex}"
    simulator.control.create_shop(
        domain, orders=60, customers=40, products=10, seed=11, token=token, plan="plus"
    )
    yield SimStore(domain=domain, token=token, api_base_url=f"{simulator.base_url}/shops/{domain}")
    simulator.control.set_faults(shop=domain)
    simulator.control.delete_shop(domain)


@pytest.fixture
def sim_shop(sim_store: SimStore, staff) -> Shop:
    """Our shop row for `sim_store`, connected with its token, `staff` a member."""
    shop = Shop.objects.create(
        domain=sim_store.domain, name="Simulated store", api_base_url=sim_store.api_base_url,
        access_token=sim_store.token, scopes=settings.SHOPIFY_SCOPES, installed_at=timezone.now(),
    )  # fmt: skip
    shop.members.add(staff)
    return shop


@pytest.fixture
def wait_for_session_end() -> Callable[..., SyncSession]:
    """Block until the shop's session `pk` is terminal: a test must not end (and flush the tables)
    while the worker is still writing."""

    def wait(session_id: int, *, timeout: float = 90) -> SyncSession:
        _wait_for(
            lambda: SyncSession.objects.filter(
                pk=session_id, status__in=["completed", "failed", "cancelled"]
            ).exists(),
            timeout=timeout,
        )
        return SyncSession.objects.get(pk=session_id)

    return wait
