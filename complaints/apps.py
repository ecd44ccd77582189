from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("客户投诉")

    def ready(self):
        # Extension points of the layers below (complaints imports clients, never the reverse):
        # the grading fact (R17 -> R7), the client tab (R19), home panel, global search, and
        # the periodic job's declared schedule (tasks).
        from clients.facts import register_fact, register_fact_annotation
        from clients.panels import register_tab

        from . import figures, home_panels, search_providers, tasks  # noqa: F401
        from .repairs import figures as repair_figures  # noqa: F401  (R99)
        from .selectors import unreasonable_count, unreasonable_count_annotation
        from .tabs import client_tab_context, client_tab_rows

        register_fact("unreasonable_complaints", unreasonable_count)
        register_fact_annotation("unreasonable_count", unreasonable_count_annotation)
        register_tab(
            "complaints",
            _("投诉"),
            "complaints/_client_tab.html",
            client_tab_context,
            order=50,
            count=client_tab_rows,
        )
