"""The admin shows staff the rows of their own shops only (shopsync/admin_scoping.py)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.urls import reverse

from shopsync.models import Customer, FailedSyncItem, Shop
from tests.factories import CustomerFactory, FailedSyncItemFactory, ShopFactory, UserFactory

DEAD_LETTERS = reverse("admin:shopsync_failedsyncitem_changelist")


def _staff_of(*shops, codenames=("view_failedsyncitem", "change_failedsyncitem", "view_customer")):
    user = UserFactory(username="shop-staff", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    for shop in shops:
        shop.members.add(user)
    return user


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _ids(response) -> set[int]:
    return {row.pk for row in response.context["cl"].result_list}


def test_staff_see_their_shops_rows_and_superusers_every_row(client, shop):
    # given
    mine = FailedSyncItemFactory(shop=shop)
    theirs = FailedSyncItemFactory(shop=ShopFactory(domain="zeta.myshopify.com"))
    client.force_login(_staff_of(shop))
    staff_view = _ids(client.get(DEAD_LETTERS))
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    # when
    superuser_view = _ids(client.get(DEAD_LETTERS))
    # then
    assert staff_view == {mine.pk}
    assert superuser_view == {mine.pk, theirs.pk}


def test_the_shop_filter_offers_only_the_users_shops(client, shop):
    # given
    second = ShopFactory(domain="second.myshopify.com")
    ShopFactory(domain="zeta.myshopify.com")
    FailedSyncItemFactory(shop=shop)
    client.force_login(_staff_of(shop, second))
    # when
    page = client.get(DEAD_LETTERS).content.decode()
    # then
    assert f"shop__id__exact={shop.pk}" in page
    assert f"shop__id__exact={second.pk}" in page
    assert "zeta.myshopify.com" not in page


def test_object_permissions_follow_the_shop_path(shop):
    # given
    other = ShopFactory(domain="zeta.myshopify.com")
    request = _request(_staff_of(shop))
    model_admin = admin.site.get_model_admin(Customer)
    # when
    mine = model_admin.has_change_permission(request, CustomerFactory(shop=shop))
    theirs = model_admin.has_view_permission(request, CustomerFactory(shop=other))
    shop_admin = admin.site.get_model_admin(Shop)
    # then
    assert mine is False  # no change_customer permission at all
    assert theirs is False
    assert model_admin.has_view_permission(request, CustomerFactory(shop=shop)) is True
    assert shop_admin.has_view_permission(request, other) is False


def test_foreign_key_choices_are_the_users_shops(shop):
    # given
    ShopFactory(domain="zeta.myshopify.com")
    model_admin = admin.site.get_model_admin(FailedSyncItem)
    # when
    field = model_admin.formfield_for_foreignkey(
        FailedSyncItem._meta.get_field("shop"), _request(_staff_of(shop))
    )
    # then
    assert list(field.queryset) == [shop]


def test_a_crafted_action_for_another_shops_dead_letter_does_nothing(client, shop):
    # given
    theirs = FailedSyncItemFactory(shop=ShopFactory(domain="zeta.myshopify.com"))
    client.force_login(_staff_of(shop))
    # when
    client.post(DEAD_LETTERS, {"action": "abandon", "_selected_action": [theirs.pk]})
    client.post(DEAD_LETTERS, {"action": "retry_now", "_selected_action": [theirs.pk]})
    # then
    theirs.refresh_from_db()
    assert (theirs.resolved_at, theirs.resolution, theirs.retry_count) == (None, "", 0)


def test_beat_schedules_are_for_superusers_only(client, shop):
    # given
    staff = _staff_of(shop)
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="django_celery_beat"))
    client.force_login(staff)
    # when
    response = client.get(reverse("admin:django_celery_beat_periodictask_changelist"))
    # then
    assert response.status_code == 403
