"""The authentication backend of every request: Django's ModelBackend, with the signed-in user
read in one query and the user's permissions read with the access scope.

Every page starts by loading the user and asking what they may do. Django's own backend spends
four queries on it (the user, the user's branch for the header, the user's and the groups'
model permissions) and the access snapshot three more (branch object permissions, grants,
suspensions); the header one more (the unread count). Here the user comes with the branch and
the unread count (``get_user``), and the model permissions come in the snapshot's single query
(``crm.access.snapshot``): a page's first-seen part fits a budget of a few queries."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


class CrmModelBackend(ModelBackend):
    def get_user(self, user_id):
        from .models import Notification

        model = get_user_model()
        unread = (
            Notification.objects.filter(recipient=OuterRef("pk"), read_at__isnull=True)
            .order_by()
            .values("recipient")
            .annotate(n=Count("pk"))
            .values("n")
        )
        try:
            user = (
                model._default_manager.select_related("branch")
                .annotate(
                    unread_notifications=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0))
                )
                .get(pk=user_id)
            )
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None or user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            from .access import snapshot

            user_obj.__dict__.pop("_crm_scope", None)  # a cached scope would not set it again
            snapshot(user_obj)  # sets _perm_cache with the branch permissions, in one query
        return user_obj._perm_cache
