"""Admin pages see only the shops the user is a member of (superusers see every shop).

Every ModelAdmin of shop data mixes in `ShopScopedAdminMixin` and declares, once, the path from its
model to the shop (`shop_field = "shop"`, `"order__shop"`; `None` for the Shop admin itself). From
that one declaration the mixin scopes:
- the changelist, the change / delete / history pages and every admin action (Django looks objects
  up through `get_queryset`, so another shop's id is "does not exist" and an action's crafted POST
  selects nothing);
- the object permissions, for anything that checks them with an object;
- the foreign-key choices (select and raw-id) and the shop list filter, so even the other shops'
  domains never show.

The model permissions (view, change, ...) still decide what a user may do at all; membership only
narrows which rows.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Field, ForeignKey, Model, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from shopsync.models import Shop

_SHOP_IDS_ATTR = "_shopsync_member_shop_ids"


def admin_sees_every_shop(*, user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_active and user.is_superuser)


def member_shop_ids(request: HttpRequest) -> frozenset[int]:
    """The ids of the user's shops, read once per request."""
    cached = getattr(request, _SHOP_IDS_ATTR, None)
    if cached is None:
        user = request.user
        ids = Shop.objects.filter(members=user).values_list("pk", flat=True) if user.is_authenticated else []
        cached = frozenset(ids)
        setattr(request, _SHOP_IDS_ATTR, cached)
    return cached


def shop_scoped(queryset: QuerySet, *, request: HttpRequest, shop_field: str | None) -> QuerySet:
    """`queryset` narrowed to the user's shops; `shop_field` is the lookup path to the shop, None when
    the rows are shops."""
    if admin_sees_every_shop(user=request.user):
        return queryset
    lookup = f"{shop_field}__in" if shop_field else "pk__in"
    return queryset.filter(**{lookup: member_shop_ids(request)})


def shop_id_of(obj: Model, *, shop_field: str | None) -> int | None:
    """Follow `shop_field` ("order__shop") from the object to its shop's id."""
    if shop_field is None:
        return obj.pk
    *path, last = shop_field.split("__")
    target: Any = obj
    for step in path:
        target = getattr(target, step, None)
        if target is None:
            return None
    return getattr(target, f"{last}_id", None)


class MemberShopListFilter(admin.RelatedFieldListFilter):
    """The shop filter offers the user's shops only: the other shops' domains are not for them."""

    def field_choices(self, field: Field, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        choices = super().field_choices(field, request, model_admin)
        if admin_sees_every_shop(user=request.user):
            return choices
        allowed = member_shop_ids(request)
        return [(pk, label) for pk, label in choices if pk in allowed]


class ShopScopedAdminMixin:
    """Mix in before `admin.ModelAdmin` (or a subclass of it); see the module docstring."""

    shop_field: str | None = "shop"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return shop_scoped(super().get_queryset(request), request=request, shop_field=self.shop_field)  # type: ignore[misc]

    def may_access_object(self, request: HttpRequest, obj: Model | None) -> bool:
        if obj is None or admin_sees_every_shop(user=request.user):
            return True
        return shop_id_of(obj, shop_field=self.shop_field) in member_shop_ids(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_view_permission(request, obj) and self.may_access_object(request, obj)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and self.may_access_object(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self.may_access_object(request, obj)  # type: ignore[misc]

    def get_list_filter(self, request: HttpRequest) -> list:
        filters = list(super().get_list_filter(request))  # type: ignore[misc]
        return [(name, MemberShopListFilter) if name == self.shop_field else name for name in filters]

    def formfield_for_foreignkey(self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        if isinstance(formfield, ModelChoiceField) and not admin_sees_every_shop(user=request.user):
            formfield.queryset = _related_choices(formfield.queryset, request=request)
        return formfield


def _related_choices(queryset: QuerySet, *, request: HttpRequest) -> QuerySet:
    """A foreign key's choices: shops among the user's, or rows of the user's shops; a model with no
    shop of its own (a user, say) is left as it is."""
    model = queryset.model
    if model is Shop:
        return shop_scoped(queryset, request=request, shop_field=None)
    if any(field.name == "shop" for field in model._meta.get_fields()):
        return shop_scoped(queryset, request=request, shop_field="shop")
    return queryset


class SuperuserOnlyAdminMixin:
    """For admin pages that are about the whole installation (beat schedules): superusers only."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return admin_sees_every_shop(user=request.user)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return admin_sees_every_shop(user=request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return admin_sees_every_shop(user=request.user)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return admin_sees_every_shop(user=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return admin_sees_every_shop(user=request.user)
