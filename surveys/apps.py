from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("满意度调查")

    def ready(self):
        # The client page's tab and the archive's satisfaction fact (R8, R25): surveys imports
        # clients, never the reverse. tasks declares the campaign schedules (R25a).
        # improvements: the plans' figures and home panel (R105, R108).
        modules = (
            "archive",
            "tasks",
            "home_panels",
            "figures",
            "improvements.figures",
            "improvements.home_panels",
        )
        for module in modules:
            import_module(f"{self.name}.{module}")
