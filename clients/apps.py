from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = _("客户档案")

    def ready(self):
        # Grant scope for restrict(); global-search providers, home panels and navigation
        # predicates (selectors) of the archive; the client page's own tabs.
        for module in ("signals", "search_providers", "home_panels", "selectors", "figures", "tabs"):
            import_module(f"{self.name}.{module}")
        import_module(f"{self.name}.cultivation.figures")  # R47
