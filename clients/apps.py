from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = _("客户档案")

    def ready(self):
        from . import signals  # noqa: F401
