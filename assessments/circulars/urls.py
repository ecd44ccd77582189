"""URLs of the half-year review meeting, its circular and the reports to the leaders (R87-R93),
included by assessments/urls.py under "review-meetings/" in the "assessments" namespace."""

from django.urls import path

from . import views as v

urlpatterns = [
    path("", v.meeting_list, name="review-meeting-list"),
    path("rounds/<str:half_year>/record/", v.meeting_add, name="review-meeting-add"),
    path("<int:pk>/", v.meeting_detail, name="review-meeting-detail"),
    path("<int:pk>/decisions/", v.decision_add, name="review-decision-add"),
    path("<int:pk>/circular/", v.circular_generate, name="circular-generate"),
    path("decisions/<int:pk>/done/", v.decision_done, name="review-decision-done"),
    path("circulars/", v.circular_list, name="circular-list"),
    path("circulars/<int:pk>/", v.circular_detail, name="circular-detail"),
    path("circulars/<int:pk>/save/", v.circular_save, name="circular-save"),
    path("circulars/<int:pk>/issue/", v.circular_issue, name="circular-issue"),
    path("circulars/<int:pk>/receipts/", v.circular_receipts, name="circular-receipts"),
    path("to-leaders/", v.leader_report_list, name="leader-report-list"),
    path("to-leaders/<int:pk>/", v.leader_report_detail, name="leader-report-detail"),
    path("to-leaders/<int:pk>/save/", v.leader_report_save, name="leader-report-save"),
    path("to-leaders/<int:pk>/send/", v.leader_report_send, name="leader-report-send"),
    path("assessments/<int:pk>/commendation/", v.commendation_draft, name="commendation-draft"),
    path("summaries/<int:pk>/forward/", v.summary_forward, name="summary-forward"),
]
