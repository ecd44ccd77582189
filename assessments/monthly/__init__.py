"""Monthly reporting (R26-R29): each branch's report (客户信息统计表) over its window, its workflow
(submit, return, accept), the 25th job that closes a period and builds the group roll-up, the
reminders and the rankings; their pages and exports. A package like review/ and dashboards/;
what monthly reporting and the review both use (who reports, who is told, what a branch owes
and its hold) lies below both, in assessments/obligations.py."""
