"""Fuzz every operation of the OpenAPI schema (`/api/schema/`) with schemathesis, in process through
WSGI, as a staff user who is a member of one shop: no request may get a 5xx, and every answer must be
one the schema documents (status code, content type, body). A stateful run follows the links below,
so a started run is then listed, read and cleared with its real session id.

The schema is loaded when the module is imported, through the real endpoint (no database needed);
the pytest-django `db` fixture then wraps each operation's examples in one rolled-back transaction,
so this runs on SQLite as well as PostgreSQL. Hypothesis is derandomized and keeps no example
database, so a run is repeatable (it still caches under the git-ignored `.hypothesis/`). About 20 s.
"""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from werkzeug.test import Client

from reconciliation.models import AlertIncident, ReconciliationReport, SyncHealthMetric
from shopsync.models import FailedSyncItem, SyncSession
from tests.factories import (
    FailedSyncItemFactory,
    ShopFactory,
    SyncJobFactory,
    SyncSessionFactory,
    UserFactory,
)

USERNAME, PASSWORD = "fuzzer", "fuzz-password"
DOMAIN, OTHER_DOMAIN = "fuzz.myshopify.com", "other.myshopify.com"

# Rules that OpenAPI cannot state, so a request the schema calls valid may rightly get a 400.
_KNOWN_SCHEMA_GAPS = [
    # `days` goes with syncMode=populate only, `staleAfterMins` with (and only with) syncMode=update.
    ("POST /api/shopify/sync/jobs/start", ["positive_data_acceptance"]),
    # `run=true` needs `shop`; and DRF reads an empty query value (`?resource=`) as "not given".
    ("GET /api/admin/reconciliation", ["positive_data_acceptance", "negative_data_rejection"]),
    # A report id that is not an integer matches no URL pattern: Django's own (HTML) 404.
    ("GET /api/admin/reconciliation/{report_id}", ["content_type_conformance"]),
]

APP = WSGIHandler()
CONFIG = schemathesis.Config.from_dict(
    {
        "auth": {"basic": {"username": USERNAME, "password": PASSWORD}},
        # Half the time `shop` is one that exists (in the spellings the API accepts), so requests
        # get past the shop lookup; the other half it is whatever Hypothesis makes of a string. (Not
        # "": schemathesis takes these values as valid, and some endpoints require a shop.)
        "dictionaries": {"shops": {"values": [DOMAIN, "https://FUZZ.myshopify.com/", OTHER_DOMAIN]}},
        "parameters": {
            "query.shop": {"dictionary": "shops", "probability": 0.5},
            "body.shop": {"dictionary": "shops", "probability": 0.5},
        },
        "operations": [
            *(
                {"include-name": name, "checks": {check: {"enabled": False} for check in checks}}
                for name, checks in _KNOWN_SCHEMA_GAPS
            ),
            # drf-spectacular's own view (unknown `lang` ignored, unknown `format` a bare 404): it
            # only has to stay up. Its fuzzing phase sends 40 requests with drawn `lang` and `format`
            # values; the coverage phase is off for it: it would request the schema once for each of
            # the 100 languages of the `lang` enum, and each request builds the whole schema anew
            # (about 0.25 CPU s: two thirds of this module's CPU in each lane, for no code of ours).
            {
                "include-name": "GET /api/schema/",
                "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
                "phases": {"coverage": {"enabled": False}},
            },
        ],
    }
)


def _schema_with_workflows() -> dict:
    """The served schema plus OpenAPI links between the sync operations (drf-spectacular cannot
    declare links), which the stateful run follows."""
    response = Client(APP).get("/api/schema/?format=json")
    assert response.status_code == 200, response.get_data(as_text=True)
    raw = copy.deepcopy(response.json)
    same_shop = {"query.shop": "$request.body#/shop"}
    started = {
        "ListTheRuns": {"operationId": "shopify_sync_jobs_list", "parameters": same_shop},
        "ReadTheStatus": {"operationId": "shopify_sync_status_retrieve", "parameters": same_shop},
        "ClearTheRun": {
            "operationId": "shopify_sync_sessions_clear_create",
            "requestBody": {"shop": "$request.body#/shop", "sessionId": "$response.body#/sessionId"},
        },
        "StartAgain": {"operationId": "shopify_sync_jobs_start_create", "requestBody": "$request.body"},
    }
    responses = raw["paths"]["/api/shopify/sync/jobs/start"]["post"]["responses"]
    for code in ("200", "202"):
        responses[code]["links"] = started
    cleared = {"ReadTheStatus": started["ReadTheStatus"], "ListTheRuns": started["ListTheRuns"]}
    raw["paths"]["/api/shopify/sync/sessions/clear"]["post"]["responses"]["200"]["links"] = cleared
    return raw


schema = schemathesis.openapi.from_dict(_schema_with_workflows(), config=CONFIG)
schema.app = APP

FUZZ_SETTINGS = settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    # Each operation's examples share one test transaction (the `db` fixture), on purpose.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Django closes the connection when a request finishes; the test transaction lives on it.
    (django.test.Client does the same for its requests.)"""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzzer(db, settings):
    """A staff user, member of one shop whose history has something in every list the APIs return;
    another shop exists that the user is not a member of."""
    # An API that calls Shopify in the request (a reconciliation run) meets a refused connection
    # once, instead of backing off through every retry.
    settings.SHOPIFY_HTTP_MAX_ATTEMPTS = 1
    user = UserFactory(username=USERNAME, password=PASSWORD, is_staff=True)
    # A closed loopback port: nothing the fuzzer triggers can reach beyond this machine.
    shop = ShopFactory(domain=DOMAIN, api_base_url="http://127.0.0.1:9")
    shop.members.add(user)
    other = ShopFactory(domain=OTHER_DOMAIN, api_base_url="http://127.0.0.1:9")
    _history(shop)
    _history(other)
    return user


def _history(shop) -> None:
    now = timezone.now()
    session = SyncSessionFactory(
        shop=shop, kind="initial", status=SyncSession.Status.COMPLETED, triggered_by="install",
        started_at=now - timedelta(minutes=5), finished_at=now, message="Done.",
    )  # fmt: skip
    SyncJobFactory(session=session, status="completed", synced=3, total=3, failures=[{"id": 1, "error": "x"}])
    # A failed batch that fails again on every retry (it names no write mode).
    FailedSyncItemFactory(
        shop=shop, entity_type=FailedSyncItem.EntityType.BATCH, payload={"resource": "orders", "records": []}
    )
    ReconciliationReport.objects.create(
        shop=shop, resource="orders", triggered_by="beat", status="warning", started_at=now,
        finished_at=now, shopify_count=3, local_count=2, missing_count=1, missing_ids=[7],
    )  # fmt: skip
    SyncHealthMetric.objects.create(
        shop=shop, kind=SyncHealthMetric.Kind.ORDER_LAG, value=1.0, status="ok", warning_threshold=1,
        critical_threshold=2, measured_at=now,
    )  # fmt: skip
    AlertIncident.objects.create(
        shop=shop, kind="metric:order_lag", summary="Behind.", opened_at=now, last_seen_at=now
    )


class _Workflow(schema.as_state_machine()):
    """Each workflow starts from the fixture's data: a savepoint is rolled back after it, so a
    failing one replays the same way while Hypothesis shrinks it (what a step may do next depends
    on the answers before it)."""

    def setup(self) -> None:
        self._savepoint = transaction.savepoint()

    def teardown(self) -> None:
        transaction.savepoint_rollback(self._savepoint)


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_answers_as_documented_and_never_with_a_server_error(case, fuzzer):
    # given: the case Hypothesis generated from the schema, against the fixture's data
    savepoint = transaction.savepoint()
    try:
        # when / then: the response passes every check (not_a_server_error, status code, content
        # type, response schema, auth is not ignored, invalid input is rejected, ...)
        case.call_and_validate()
    finally:
        transaction.savepoint_rollback(savepoint)


def test_sync_workflows_started_listed_read_and_cleared_answer_as_documented(fuzzer):
    # given: workflows along the links, up to 6 steps each
    # when / then: every answer passes the same checks
    _Workflow.run(settings=settings(FUZZ_SETTINGS, max_examples=15, stateful_step_count=6))
