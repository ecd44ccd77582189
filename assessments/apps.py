from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The records the dashboards count (R35): a save or delete of any drops the cached figures.
COUNTED = (
    "clients.Client",
    "clients.GradeChange",
    "clients.StageChange",
    "clients.GiveUp",
    "clients.CultivationPlan",  # R47: the cultivation figures
    "clients.BEvaluation",
    "clients.Project",
    "clients.FeeCollection",
    "clients.Need",
    "clients.Visit",
    "clients.VisitPlan",
    "complaints.Complaint",
    "complaints.Event",
    "complaints.RepairRequest",  # R99: the repair figures
    "complaints.RepairVisit",
    "surveys.Survey",
    "surveys.Answer",
    "surveys.ImprovementPlan",  # R108: the improvement figures and the satisfaction table's links
    "surveys.ImprovementMeasure",
    "assessments.MonthlyReport",
    "assessments.Assessment",
    "crm.Suspension",
    "clients.AccessGrant",
)


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("上报与考核")

    def ready(self):
        from django.apps import apps
        from django.db.models.signals import post_delete, post_save

        from crm.signals import rows_bulk_written

        from . import archive, home_panels  # noqa: F401  (register the client tab, the home panels)
        from .circulars import home_panels as circular_panels  # noqa: F401
        from .dashboards.selectors import bump
        from .needreports import home_panels as need_panels  # noqa: F401

        for label in COUNTED:
            model = apps.get_model(label)
            post_save.connect(bump, sender=model, dispatch_uid=f"dashboard-bump-save-{label}")
            post_delete.connect(bump, sender=model, dispatch_uid=f"dashboard-bump-delete-{label}")
            rows_bulk_written.connect(bump, sender=model, dispatch_uid=f"dashboard-bump-bulk-{label}")
