from django.conf import settings

from .access import active_suspension
from .models import Notification


def shell(request):
    """What the base layout needs: unread count, the user's branch and role, suspensions (R33)."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"CRM_GROUP_NAME": settings.CRM_GROUP_NAME}
    return {
        "CRM_GROUP_NAME": settings.CRM_GROUP_NAME,
        "unread_count": Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
        "archive_suspension": active_suspension(user, "archive"),
    }
