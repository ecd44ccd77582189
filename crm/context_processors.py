from django.conf import settings

from .calendar import years_awaiting_schedule
from .models import Notification, Role


def _suspensions(user) -> dict:
    from django.utils import timezone

    from .access import snapshot
    from .models import Suspension

    found = {"archive_suspension": None, "submissions_hold": None}
    if not user.branch_id:
        return found
    # The rows the access snapshot read for this request (crm.access.snapshot), still active now.
    now = timezone.now()
    rows = [r for r in snapshot(user).suspensions if r.starts_at <= now < r.ends_at and r.lifted_at is None]
    for row in rows:
        key = "archive_suspension" if row.kind == Suspension.Kind.ARCHIVE else "submissions_hold"
        found[key] = found[key] or row
    return found


def shell(request):
    """What the base layout needs: unread count, the user's branch and role, suspensions (R33)."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"CRM_GROUP_NAME": settings.CRM_GROUP_NAME}
    is_admin = user.is_superuser or user.role == Role.ADMIN
    return {
        "CRM_GROUP_NAME": settings.CRM_GROUP_NAME,
        # Read with the user (crm.auth.CrmModelBackend.get_user); a user loaded otherwise asks.
        "unread_count": user.unread_notifications
        if hasattr(user, "unread_notifications")
        else Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
        # R33, one query for both: the archive suspension, and the hold whose people see what is
        # owed and what is refused on every page.
        **_suspensions(user),
        # R11: administrators are told until the coming year's official holidays are entered.
        "calendar_years_missing": years_awaiting_schedule() if is_admin else [],
    }
