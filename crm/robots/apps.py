from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RobotsConfig(AppConfig):
    """Group chat robots, an app of its own inside the crm package (its own migrations)."""

    name = "crm.robots"
    label = "robots"
    verbose_name = _("群机器人")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import channel

        channel.register()  # the outbox delivers notices to the robots (R111, R117)
