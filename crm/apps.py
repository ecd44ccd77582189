from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("组织与系统")

    def ready(self):
        from . import signals  # noqa: F401
