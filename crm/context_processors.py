from django.conf import settings

from .access import active_suspension
from .calendar import years_awaiting_schedule
from .models import Notification, Role


def shell(request):
    """What the base layout needs: unread count, the user's branch and role, suspensions (R33)."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"CRM_GROUP_NAME": settings.CRM_GROUP_NAME}
    is_admin = user.is_superuser or user.role == Role.ADMIN
    return {
        "CRM_GROUP_NAME": settings.CRM_GROUP_NAME,
        "unread_count": Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
        "archive_suspension": active_suspension(user, "archive"),
        # R33: a held branch's people see what is owed and what is refused on every page.
        "submissions_hold": active_suspension(user, "submissions") if user.branch_id else None,
        # R11: administrators are told until the coming year's official holidays are entered.
        "calendar_years_missing": years_awaiting_schedule() if is_admin else [],
    }
