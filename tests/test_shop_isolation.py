"""A member of shop A can neither see nor change anything of shop B, by any URL the app serves.

Every URL pattern (walked from the root resolver, the admin's included) has a check here, and
`test_every_url_pattern_is_classified` fails when a new one appears without a check. The member of A
is staff with every permission on the shop-data apps: the strongest non-superuser there is. Every
check runs with a snapshot of all of shop B's rows taken before and compared after, so no check can
change B without failing; each also asserts the answer is a refusal (403 / 404 / "does not exist")
or shows nothing of B ("b-secret" is in every text of B's rows).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from reconciliation.models import AlertIncident, ReconciliationReport, SyncHealthMetric
from shopsync.models import (
    Collection,
    CollectionProduct,
    Customer,
    CustomerAddress,
    FailedSyncItem,
    Fulfillment,
    InventoryLevel,
    LineItem,
    Location,
    Order,
    Product,
    ProductMedia,
    ProductVariant,
    Refund,
    Shop,
    SyncAttempt,
    SyncCursor,
    SyncEvent,
    SyncJob,
    SyncSession,
)
from tests.factories import (
    CollectionProductFactory,
    CustomerFactory,
    FailedSyncItemFactory,
    InventoryLevelFactory,
    LineItemFactory,
    OrderFactory,
    ProductMediaFactory,
    ProductVariantFactory,
    ShopFactory,
    SyncJobFactory,
    UserFactory,
)
from webhooks.models import PrivacyRequest, WebhookLog

User = get_user_model()
SECRET = "b-secret"
SHOP_DATA_APPS = ("shopsync", "webhooks", "reconciliation", "django_celery_beat")
# Installation-wide pages (beat schedules: tasks for every shop): superusers only, whatever the perms.
SUPERUSER_ONLY_APPS = ("django_celery_beat",)
# Users and groups hold no shop data; the model permissions guard them (the member of A has none).
PERMISSION_GUARDED_APPS = ("auth",)
ADMIN_MODEL_VIEWS = ("changelist", "add", "history", "delete", "change")


@dataclass
class World:
    client: Client
    shop_a: Shop
    shop_b: Shop
    b_objects: dict[type[Model], Model]
    # One row of each installation-wide admin model (users, groups, beat schedules).
    global_objects: dict[type[Model], Model]


@pytest.fixture
def world(db) -> World:
    shop_a = ShopFactory(domain="shop-a.myshopify.com", name="Shop A")
    shop_b = ShopFactory(
        domain=f"{SECRET}.myshopify.com", name=f"Shop {SECRET}", api_base_url="http://127.0.0.1:9"
    )
    member = UserFactory(username="member-a", is_staff=True)
    member.user_permissions.set(Permission.objects.filter(content_type__app_label__in=SHOP_DATA_APPS))
    shop_a.members.add(member)
    shop_b.members.add(UserFactory(username="member-b"))
    client = Client()
    client.force_login(member)
    return World(
        client=client, shop_a=shop_a, shop_b=shop_b, b_objects=_shop_b_objects(shop_b),
        global_objects=_global_objects(),
    )  # fmt: skip


def _global_objects() -> dict[type[Model], Model]:
    interval = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.MINUTES)
    objects: list[Model] = [
        UserFactory(username="someone-else"),
        Group.objects.create(name="operators"),
        interval,
        CrontabSchedule.objects.create(),
        SolarSchedule.objects.create(event="sunrise", latitude=0, longitude=0),
        ClockedSchedule.objects.create(clocked_time=timezone.now()),
        PeriodicTask.objects.create(name="every shop", task="reconciliation.tasks.x", interval=interval),
    ]
    return {type(obj): obj for obj in objects}


def _shop_b_objects(shop: Shop) -> dict[type[Model], Model]:
    now = timezone.now()
    order = OrderFactory(shop=shop, name=f"#{SECRET}", email=f"{SECRET}@example.com")
    customer = CustomerFactory(
        shop=shop, email=f"{SECRET}@example.com", local_notes=f"{SECRET} notes",
        default_address={"country": f"{SECRET} land", "country_code": "ZZ"}, email_marketing_state="subscribed",
    )  # fmt: skip
    job = SyncJobFactory(session__shop=shop, error=f"{SECRET} job")
    webhook = WebhookLog.objects.create(
        shop=shop, topic="orders/updated", event_id=f"{SECRET}-event", body=f'{{"note": "{SECRET}"}}'.encode(),
        received_at=now, last_error=f"{SECRET} failed",
    )  # fmt: skip
    objects: list[Model] = [
        shop,
        customer,
        CustomerAddress.objects.create(shop=shop, customer=customer, shopify_id=4343, city=f"{SECRET} city"),
        order,
        LineItemFactory(order=order, title=f"{SECRET} widget"),
        ProductVariantFactory(
            product__shop=shop, product__title=f"{SECRET} product", title=f"{SECRET} variant"
        ),
        job.session,
        job,
        FailedSyncItemFactory(shop=shop, error_message=f"{SECRET} boom", payload={"note": SECRET}),
        webhook,
        PrivacyRequest.objects.create(
            shop=shop, webhook_log=webhook, topic="customers/redact", payload={"note": SECRET}
        ),
        ReconciliationReport.objects.create(
            shop=shop,
            resource="orders",
            triggered_by="beat",
            status="warning",
            started_at=now,
            error=f"{SECRET} report",
            missing_count=1,
            missing_ids=[4242424242],
        ),
        SyncHealthMetric.objects.create(
            shop=shop,
            kind="order_lag",
            value=1,
            warning_threshold=1,
            critical_threshold=2,
            status="ok",
            details={"note": SECRET},
            measured_at=now,
        ),
        AlertIncident.objects.create(
            shop=shop, kind="metric:order_lag", summary=f"{SECRET} lag", opened_at=now, last_seen_at=now
        ),
    ]
    objects.append(objects[5].product)  # the variant's product
    member = CollectionProductFactory(collection__shop=shop, collection__title=f"{SECRET} collection",
                                      shopify_id=objects[5].product.shopify_id)  # fmt: skip
    objects += [
        member,
        member.collection,
        ProductMediaFactory(product=objects[5].product, alt=f"{SECRET} image"),
        Refund.objects.create(shop=shop, order=order, shopify_id=7070, note=f"{SECRET} refund"),
        Fulfillment.objects.create(shop=shop, order=order, shopify_id=6060, tracking_number=f"{SECRET}-1Z"),
    ]
    level = InventoryLevelFactory(location__shop=shop, location__name=f"{SECRET} warehouse", available=7)
    objects += [level, level.location]
    return {type(obj): obj for obj in objects}


# Everything of shop B, row by row: compared before and after every check.
SHOP_B_TABLES: dict[type[Model], str] = {
    Shop: "pk", Customer: "shop", CustomerAddress: "shop", Order: "shop", LineItem: "shop", Product: "shop", ProductVariant: "shop",
    SyncSession: "shop", SyncJob: "shop", SyncEvent: "session__shop", SyncAttempt: "session__shop",
    SyncCursor: "shop", FailedSyncItem: "shop", WebhookLog: "shop", PrivacyRequest: "shop",
    ReconciliationReport: "shop", SyncHealthMetric: "shop", AlertIncident: "shop", Collection: "shop",
    CollectionProduct: "shop", ProductMedia: "shop", Refund: "shop", Fulfillment: "shop", Location: "shop",
    InventoryLevel: "shop",
}  # fmt: skip


def _shop_b_state(world: World) -> dict[str, list]:
    state = {
        model._meta.label: list(model.objects.filter(**{path: world.shop_b.pk}).order_by("pk").values())
        for model, path in SHOP_B_TABLES.items()
    }
    state["members"] = sorted(world.shop_b.members.values_list("pk", flat=True))
    return state


# --- what a refusal looks like -------------------------------------------------------------------


def _shows_nothing_of_b(response: HttpResponse) -> None:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert SECRET.encode() not in body.lower(), response.request["PATH_INFO"]


def _refused(response: HttpResponse) -> None:
    """403, 404, or the admin's "does not exist" (a redirect to its index), and nothing of B."""
    if response.status_code == 302:
        assert response["Location"] in (reverse("admin:index"), "/admin/"), response["Location"]
    else:
        assert response.status_code in (403, 404), (response.request["PATH_INFO"], response.status_code)
    _shows_nothing_of_b(response)


def _shown_without_b(response: HttpResponse) -> None:
    assert response.status_code == 200, (response.request["PATH_INFO"], response.status_code)
    _shows_nothing_of_b(response)


# --- pages and APIs ------------------------------------------------------------------------------


def _get_for_shop_b(name: str) -> Callable[[World], None]:
    def check(world: World) -> None:
        _refused(world.client.get(reverse(name), {"shop": world.shop_b.domain}))

    return check


def _post_for_shop_b(name: str, **extra: object) -> Callable[[World], None]:
    def check(world: World) -> None:
        url, data = reverse(name), {"shop": world.shop_b.domain, **extra}
        # The APIs take JSON only (a form would be a 415 before any shop is looked at).
        as_json = {"content_type": "application/json"} if url.startswith("/api/") else {}
        _refused(world.client.post(url, data, **as_json))

    return check


def _public_without_b(name: str) -> Callable[[World], None]:
    """Pages with no shop data (login, the schema, liveness): whatever they show, none of it is B's."""

    def check(world: World) -> None:
        response = world.client.get(reverse(name))
        assert response.status_code in (200, 302, 405)
        _shows_nothing_of_b(response)

    return check


def _customer_list(world: World) -> None:
    _get_for_shop_b("customer-list")(world)
    # Shop A's list, filtered by shop B's country and consent: nothing of B, not even its country.
    _shown_without_b(
        world.client.get(reverse("customer-list"), {"country": "ZZ", "email_marketing": "subscribed"})
    )


def _customer_detail(world: World) -> None:
    url = reverse("customer-detail", args=[world.b_objects[Customer].pk])
    _refused(world.client.get(url))
    _refused(world.client.post(url, {"local_notes": "overwritten", "local_tags": "x"}))


def _order_detail(world: World) -> None:
    _refused(world.client.get(reverse("order-detail", args=[world.b_objects[Order].pk])))


def _product_detail(world: World) -> None:
    _refused(world.client.get(reverse("product-detail", args=[world.b_objects[Product].pk])))


def _logout(world: World) -> None:
    _shows_nothing_of_b(world.client.post(reverse("logout")))


def _shopify_install(world: World) -> None:
    # Starting an install names a domain the user typed and sends them to Shopify to prove they own
    # it; nothing of B is read or written until Shopify's signed callback.
    response = world.client.get(reverse("shopify-install"), {"shop": world.shop_b.domain})
    assert response.status_code in (302, 400)
    _shows_nothing_of_b(response)


def _shopify_callback(world: World) -> None:
    params = {"shop": world.shop_b.domain, "code": "forged", "state": "forged", "hmac": "00"}
    _refused_or_bad_request(world.client.get(reverse("shopify-callback"), params))


def _webhook_receive(world: World) -> None:
    body = json.dumps({"id": 1, "note": "forged"}).encode()
    response = world.client.post(
        reverse("webhooks-shopify-receive"), body, content_type="application/json",
        headers={"X-Shopify-Shop-Domain": world.shop_b.domain, "X-Shopify-Topic": "orders/updated",
                 "X-Shopify-Hmac-Sha256": "Zm9yZ2Vk"},
    )  # fmt: skip
    assert response.status_code == 401


def _refused_or_bad_request(response: HttpResponse) -> None:
    assert response.status_code in (400, 403, 404)
    _shows_nothing_of_b(response)


def _session_clear(world: World) -> None:
    session = world.b_objects[SyncSession]
    url = reverse("sync-api-session-clear")
    for shop in (world.shop_b, world.shop_a):
        body = {"shop": shop.domain, "sessionId": session.pk}
        _refused(world.client.post(url, body, content_type="application/json"))


def _reconciliation_reports(world: World) -> None:
    url = reverse("reconciliation-api-reports")
    _shown_without_b(world.client.get(url))
    _refused(world.client.get(url, {"shop": world.shop_b.domain}))
    _refused(
        world.client.post(url, {"shop": world.shop_b.domain, "heal": True}, content_type="application/json")
    )


def _report_detail(name: str) -> Callable[[World], None]:
    def check(world: World) -> None:
        _refused(world.client.get(reverse(name, args=[world.b_objects[ReconciliationReport].pk])))

    return check


def _metrics(world: World) -> None:
    # An operator's endpoint (every shop): its bearer token, or a superuser.
    _refused(world.client.get(reverse("reconciliation-metrics")))


APP_CHECKS: dict[str, Callable[[World], None]] = {
    "login": _public_without_b("login"),
    "logout": _logout,
    "api-schema": _public_without_b("api-schema"),
    "reconciliation-healthz": _public_without_b("reconciliation-healthz"),
    "dashboard-home": _get_for_shop_b("dashboard-home"),
    "sync-status": _get_for_shop_b("sync-status"),
    "sync-now": _post_for_shop_b("sync-now"),
    "shop-settings": _get_for_shop_b("shop-settings"),
    "shop-settings-sync-start": _post_for_shop_b("shop-settings-sync-start", mode="incremental"),
    "shop-settings-full-sync": _post_for_shop_b("shop-settings-full-sync", confirm="on"),
    "shop-settings-metafields": _post_for_shop_b("shop-settings-metafields", namespaces="custom"),
    "customer-list": _customer_list,
    "customer-detail": _customer_detail,
    "order-list": _get_for_shop_b("order-list"),
    "order-detail": _order_detail,
    "product-list": _get_for_shop_b("product-list"),
    "product-detail": _product_detail,
    "shopify-install": _shopify_install,
    "shopify-callback": _shopify_callback,
    "webhooks-shopify-receive": _webhook_receive,
    "sync-api-job-start": _post_for_shop_b("sync-api-job-start", syncMode="full"),
    "sync-api-job-list": _get_for_shop_b("sync-api-job-list"),
    "sync-api-status": _get_for_shop_b("sync-api-status"),
    "sync-api-failed-batch-retry": _post_for_shop_b("sync-api-failed-batch-retry"),
    "sync-api-session-clear": _session_clear,
    "reconciliation-api-reports": _reconciliation_reports,
    "reconciliation-api-report-detail": _report_detail("reconciliation-api-report-detail"),
    "reconciliation-report-detail": _report_detail("reconciliation-report-detail"),
    "reconciliation-api-health": lambda world: _shown_without_b(world.client.get(reverse("reconciliation-api-health"))),
    "reconciliation-metrics": _metrics,
}  # fmt: skip


# --- the admin -----------------------------------------------------------------------------------


def _b_object_of(world: World, model: type[Model]) -> Model:
    return world.b_objects[model]


def _admin_model_check(model: type[Model], view: str) -> Callable[[World], None]:
    app_label, model_name = model._meta.app_label, model._meta.model_name

    def check(world: World) -> None:
        name = f"admin:{app_label}_{model_name}_{view}"
        if app_label in SUPERUSER_ONLY_APPS + PERMISSION_GUARDED_APPS:
            args = [] if view in ("changelist", "add") else [world.global_objects[model].pk]
            assert world.client.get(reverse(name, args=args)).status_code == 403
            assert world.client.post(reverse(name, args=args), {"post": "yes"}).status_code == 403
            return
        obj = _b_object_of(world, model)
        if view == "changelist":
            _admin_changelist(world, model, obj)
        elif view == "add":
            _refused(world.client.get(reverse(name)))
        elif view == "delete":
            _refused(world.client.get(reverse(name, args=[obj.pk])))
            _refused(world.client.post(reverse(name, args=[obj.pk]), {"post": "yes"}))
        elif view == "change":
            _refused(world.client.get(reverse(name, args=[obj.pk])))
            _refused(world.client.post(reverse(name, args=[obj.pk]), {"local_notes": "x", "name": "x"}))
        else:
            _refused(world.client.get(reverse(name, args=[obj.pk])))

    return check


def _admin_changelist(world: World, model: type[Model], obj: Model) -> None:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    listing = world.client.get(url)
    _shown_without_b(listing)
    assert obj.pk not in {row.pk for row in listing.context["cl"].result_list}
    if any(field.name == "shop" for field in model._meta.get_fields()):
        filtered = world.client.get(url, {"shop__id__exact": world.shop_b.pk})
        assert filtered.status_code == 200
        assert list(filtered.context["cl"].result_list) == []
        _shows_nothing_of_b(filtered)
    if admin.site.get_model_admin(model).search_fields:
        # The search box echoes the term, so only the results are checked.
        searched = world.client.get(url, {"q": SECRET})
        assert obj.pk not in {row.pk for row in searched.context["cl"].result_list}
    # A crafted POST of every action the user is offered, with B's object selected, touches nothing.
    model_admin = admin.site.get_model_admin(model)
    request = listing.wsgi_request
    for action in model_admin.get_actions(request):
        response = world.client.post(url, {"action": action, "_selected_action": [obj.pk]})
        assert response.status_code in (200, 302)
        _shows_nothing_of_b(response)


def _admin_object_redirect(model: type[Model]) -> Callable[[World], None]:
    """`admin/<app>/<model>/<id>/` redirects to the change page: followed, it shows nothing of B."""

    def check(world: World) -> None:
        if model._meta.app_label in SUPERUSER_ONLY_APPS + PERMISSION_GUARDED_APPS:
            pk = world.global_objects[model].pk
        else:
            pk = _b_object_of(world, model).pk
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/{pk}/"
        response = world.client.get(url, follow=True)
        assert response.status_code in (200, 403)
        _shows_nothing_of_b(response)

    return check


def _admin_index(world: World) -> None:
    _shown_without_b(world.client.get(reverse("admin:index")))


def _admin_app_list(world: World) -> None:
    for app_label in {model._meta.app_label for model in admin.site._registry}:
        response = world.client.get(reverse("admin:app_list", args=[app_label]))
        assert response.status_code in (200, 404)
        _shows_nothing_of_b(response)


def _admin_autocomplete(world: World) -> None:
    # Django's autocomplete endpoint answers for any foreign key whose target admin has search
    # fields, through that admin's queryset: it must not list B.
    for model in world.b_objects:
        for field in model._meta.get_fields():
            if not (field.is_relation and field.many_to_one and field.concrete):
                continue
            params = {"app_label": model._meta.app_label, "model_name": model._meta.model_name,
                      "field_name": field.name, "term": SECRET}  # fmt: skip
            response = world.client.get(reverse("admin:autocomplete"), params)
            assert response.status_code in (200, 403, 404)
            _shows_nothing_of_b(response)


def _admin_view_on_site(world: World) -> None:
    for model, obj in world.b_objects.items():
        content_type = ContentType.objects.get_for_model(model)
        response = world.client.get(reverse("admin:view_on_site", args=[content_type.pk, obj.pk]))
        assert response.status_code == 404, model
        _shows_nothing_of_b(response)


def _admin_catch_all(world: World) -> None:
    response = world.client.get(
        f"/admin/shopsync/order/{world.b_objects[Order].pk}/nothing-here/", follow=True
    )
    _shows_nothing_of_b(response)


ADMIN_SITE_CHECKS: dict[str, Callable[[World], None]] = {
    "admin:index": _admin_index,
    "admin:login": lambda world: _shows_nothing_of_b(world.client.get(reverse("admin:login"), follow=True)),
    "admin:logout": lambda world: _shows_nothing_of_b(world.client.post(reverse("admin:logout"))),
    "admin:password_change": lambda world: _shown_without_b(
        world.client.get(reverse("admin:password_change"))
    ),
    "admin:password_change_done": lambda world: _shown_without_b(
        world.client.get(reverse("admin:password_change_done"))
    ),
    "admin:jsi18n": lambda world: _shown_without_b(world.client.get(reverse("admin:jsi18n"))),
    "admin:autocomplete": _admin_autocomplete,
    "admin:view_on_site": _admin_view_on_site,
    "admin:app_list": _admin_app_list,
    "admin/(?P<url>.*)$": _admin_catch_all,
    # UserAdmin's own extra page (auth: the model permissions guard it; the member of A has none).
    "admin:auth_user_password_change": lambda world: _refused(
        world.client.get(reverse("admin:auth_user_password_change", args=[world.global_objects[User].pk]))
    ),
}


def _admin_model_checks() -> dict[str, Callable[[World], None]]:
    checks: dict[str, Callable[[World], None]] = {}
    for model in admin.site._registry:
        app_label, model_name = model._meta.app_label, model._meta.model_name
        for view in ADMIN_MODEL_VIEWS:
            checks[f"admin:{app_label}_{model_name}_{view}"] = _admin_model_check(model, view)
        checks[f"admin/{app_label}/{model_name}/<path:object_id>/"] = _admin_object_redirect(model)
    return checks


CHECKS: dict[str, Callable[[World], None]] = APP_CHECKS | ADMIN_SITE_CHECKS | _admin_model_checks()


def _url_pattern_keys(
    resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""
) -> Iterator[str]:
    """Each pattern by its name (with namespace), or by its route when it has none."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _url_pattern_keys(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}" if pattern.name else prefix + str(pattern.pattern)


def test_every_url_pattern_is_classified():
    # given / when
    served = set(_url_pattern_keys())
    # then: a new URL (a page, an API, a model in the admin) needs its check above
    assert sorted(served - set(CHECKS)) == []
    assert sorted(set(CHECKS) - served) == []


def test_every_admin_model_has_an_object_to_try(world):
    # given
    registered = set(admin.site._registry)
    # when
    covered = set(world.b_objects) | set(world.global_objects)
    # then: a newly registered model needs a shop-B row (or an installation-wide one) above
    assert sorted(m._meta.label for m in registered - covered) == []
    assert {m._meta.app_label for m in world.global_objects} <= set(
        SUPERUSER_ONLY_APPS + PERMISSION_GUARDED_APPS
    )


@pytest.mark.parametrize("key", sorted(CHECKS))
def test_a_member_of_shop_a_cannot_see_or_change_shop_b_through(key, world):
    # given
    before = _shop_b_state(world)
    # when
    CHECKS[key](world)
    # then
    assert _shop_b_state(world) == before
