"""Analyses filed in the client archive (seed 001, R54).

«客户满意度调查、客户分析报告、客户投诉的信息应在客户档案中做相应归档»;
«我方对客户的评价,主要由客户分析报告构成».

When a branch submits its half-year client analysis report (R31), each single-client analysis
in it (R30) is filed in that client's archive: the analysis becomes the client's
我方对客户的评价, with the client's history row naming the report, so the previous evaluation is
kept there. Staff may edit the evaluation afterwards (the archive form); the client page's
analyses tab says whether it is the latest analysis or an edit of it."""

from __future__ import annotations

from django.utils.translation import gettext as _

from clients.models import Client

from ..models import AnalysisReport, ClientAnalysis


def evaluation_from(analysis: ClientAnalysis) -> str:
    """The evaluation an analysis gives: its text, within the client field's limit."""
    limit = Client._meta.get_field("our_evaluation").limit
    return analysis.text.strip()[:limit]


def file_evaluations(*, report: AnalysisReport, by) -> int:
    """Called inside the submission's transaction: write each analysed client's evaluation
    from the report's analyses; returns how many changed. A client whose evaluation already
    reads the same is left alone (no history row for nothing)."""
    changed = 0
    analyses = ClientAnalysis.objects.filter(report=report).order_by("client_id")
    reason = _("由 %(half)s 客户分析报告归档") % {"half": report.half_year}
    for analysis in analyses:
        client = Client.objects.select_for_update().get(pk=analysis.client_id)
        text = evaluation_from(analysis)
        if client.our_evaluation == text:
            continue
        client.our_evaluation = text
        client._history_user = by
        client._change_reason = reason[:100]
        client.save(update_fields=["our_evaluation", "updated_at"])
        changed += 1
    return changed
