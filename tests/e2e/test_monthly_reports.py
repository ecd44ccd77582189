"""The monthly reporting journey (issue 14; R26-R28), on a fixed period, 2026-12 (26 November to
25 December, due on the 25th): east_manager opens the assembled draft, follows a figure to its
records, adds remarks and submits before the deadline; a client recorded afterwards does not
change the submitted report; the 25th job runs (the clock moves past the deadline); marketing
sees east on time and south missing, returns east's report with a reason; east submits again;
the roll-up totals equal the sum of the branches, and the exported roll-up says the same.

The browser and the live server run in this process, so time_machine moves the server's clock
too. The job is run in-process as its worker tasks run it (assessments.tasks.dispatch_close:
monthly_close_start, then monthly_close_part for each pending branch)."""

import datetime as dt
import zoneinfo
from io import BytesIO

import pytest
import time_machine
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from assessments.models import MonthlyClose, MonthlyReport
from assessments.monthly import services
from clients.models import Client
from crm import figures as fig
from crm.models import Notification
from tests.clients.factories import ClientFactory, NeedFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
PERIOD = fig.Period(2026, 12)
EAST_CLIENTS = ("上海虹桥商务区投资发展有限公司", "苏州工业园区科技城开发有限公司")
LATE_CLIENT = "苏州金鸡湖城市发展有限公司"  # recorded after east's first submission
SOUTH_CLIENT = "深圳前海湾区城市更新有限公司"
REMARKS = "本期新增客户2家,均为项目经理部拓展;需求1项已按期响应并完成。"
REASON = "12月22日新建档的苏州金鸡湖城市发展有限公司未计入,请补充后重新上报。"
REMARKS_AGAIN = "已补充12月22日新建档客户,本期新增客户3家。"


def at(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def record_the_period(org):
    """East: two new clients (two project departments) and a need answered on time and done;
    south: a new client and a need still open. Design and install: nothing."""
    east, south = org.branches["east"], org.branches["south"]
    first = ClientFactory(
        name=EAST_CLIENTS[0],
        branch=east,
        department=org.departments[("east", "pd-hongqiao")],
        owner=org["east_staff"],
    )
    ClientFactory(
        name=EAST_CLIENTS[1],
        branch=east,
        department=org.departments[("east", "pd-suzhou")],
        owner=org["east_staff"],
    )
    now = dt.datetime.now(tz=SHANGHAI)
    NeedFactory(
        client=first,
        response_due_at=now + dt.timedelta(days=1),
        responded_at=now + dt.timedelta(hours=2),
        status="done",
        description="希望提前提供二期地下室施工组织方案",
    )
    other = ClientFactory(
        name=SOUTH_CLIENT,
        branch=south,
        department=org.departments[("south", "pd-qianhai")],
        owner=org["south_staff"],
    )
    NeedFactory(
        client=other, response_due_at=now + dt.timedelta(days=2), description="希望增加夜间施工降噪措施"
    )


def value(page, key):
    return page.locator(f"[data-value={key}]").first.inner_text().strip()


def success(page, text):
    alert = page.locator(".alert-success")
    assert alert.count() == 1 and text in alert.inner_text(), page.content()[:2000]


def history(page):
    """The history entries of a report: (first line, note) per entry."""
    out = []
    for text in page.locator("[data-testid=history] li").all_inner_texts():
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        out.append((lines[0], " ".join(lines[1:])))
    return out


def as_number(text):
    """A roll-up cell as a number: a count, a rate in percent (None for "—")."""
    text = text.strip()
    if text == "—":
        return None
    if text.endswith("%"):
        return float(text[:-1])
    return int(text)


def read_rollup(page):
    table = page.locator("[data-testid=rollup-table]")
    columns = table.locator("thead th[data-column]").evaluate_all(
        "els => els.map(e => [e.dataset.column, e.innerText.trim()])"
    )
    rows = {}
    for tr in table.locator("tbody tr").all():
        badge = tr.locator("[data-timeliness]")
        rows[tr.get_attribute("data-branch")] = {
            "name": tr.locator("td").first.inner_text().strip(),
            "timeliness": badge.get_attribute("data-timeliness"),
            "label": badge.inner_text().strip(),
            "values": dict(
                (k, as_number(v))
                for k, v in tr.locator("td[data-value]").evaluate_all(
                    "els => els.map(e => [e.dataset.value, e.innerText])"
                )
            ),
        }
    totals = dict(
        (k, as_number(v))
        for k, v in table.locator("tfoot td[data-total]").evaluate_all(
            "els => els.map(e => [e.dataset.total, e.innerText])"
        )
    )
    return columns, rows, totals


def check_totals(rows, totals):
    """Counts: the footer is the sum of the branch cells. Rates: recomputed from the summed
    counts (not the sum of the branches' rates)."""
    counts = [f.key for f in fig.figures()]
    assert set(counts) <= set(totals)
    for key in counts:
        assert totals[key] == sum(r["values"][key] for r in rows.values()), key
    for rate in fig.rates():
        num = sum(r["values"][rate.numerator] for r in rows.values())
        den = sum(r["values"][rate.denominator] for r in rows.values())
        assert totals[rate.key] == (round(100 * num / den, 1) if den else None), rate.key


def test_monthly_report_from_draft_to_group_rollup(org, journey):
    east = org.branches["east"]
    with time_machine.travel(at("2026-12-20T10:00"), tick=True) as clock:
        record_the_period(org)

        # east_manager opens this period's report: assembled from the records, still a draft.
        page = journey.login("east_manager")
        page.locator("a[href='/reports/monthly/current/']").first.click()
        page.wait_for_load_state()
        report = MonthlyReport.objects.get(branch=east, period=PERIOD.label)
        assert page.url.endswith(f"/reports/monthly/{report.pk}/")
        assert page.locator("[data-testid=status]").inner_text().strip() == "待上报"
        assert (
            "报告期 11月26日 至 12月25日,截止时间 12月25日 20:00"
            in page.locator("[data-testid=period-line]").inner_text()
        )
        assert page.locator("[data-testid=no-change]").count() == 0
        assert value(page, "new_clients") == "2"
        assert value(page, "needs_received") == "1"
        assert value(page, "needs_completion_rate") == "100.0%"
        parts = page.locator("[data-testid=department-parts]").inner_text()
        assert "虹桥商务区项目经理部" in parts and "苏州工业园项目经理部" in parts
        journey.shot("east_draft")

        # ... follows the figure to the records behind it, and one record to its page.
        page.click("[data-testid=figure-new_clients]")
        page.wait_for_url(f"**/reports/monthly/{report.pk}/figures/new_clients/")
        assert page.locator("[data-testid=row-count]").inner_text().strip() == "2"
        rows = page.locator("[data-testid=figure-rows] tbody tr")
        assert rows.count() == 2
        assert EAST_CLIENTS[0] in rows.nth(0).inner_text() and EAST_CLIENTS[1] in rows.nth(1).inner_text()
        assert "李娜" in rows.nth(0).inner_text()
        journey.shot("east_figure_new_clients")
        rows.nth(1).locator("a", has_text="查看").click()
        page.wait_for_load_state()
        client = Client.objects.get(name=EAST_CLIENTS[1])
        assert page.url.endswith(f"/clients/{client.pk}/")
        assert EAST_CLIENTS[1] in page.locator("h1").inner_text()
        page.go_back()
        page.wait_for_load_state()
        page.click(f"nav a[href='/reports/monthly/{report.pk}/']")
        page.wait_for_load_state()

        # ... adds remarks, then submits before the deadline.
        page.fill("#id_remarks", REMARKS)
        page.click("[data-testid=save-remarks]")
        page.wait_for_load_state()
        success(page, "说明已保存")
        assert page.locator("#id_remarks").input_value() == REMARKS
        page.click("[data-testid=submit]")
        page.wait_for_load_state()
        success(page, "报表已上报集团市场营销部")
        assert page.locator("[data-testid=status]").inner_text().strip() == "已上报"
        badge = page.locator("h1 [data-timeliness]")
        assert badge.get_attribute("data-timeliness") == "on_time" and badge.inner_text() == "按时上报"
        assert REMARKS in page.locator("[data-testid=remarks]").inner_text()
        assert page.locator("[data-testid=submit-form]").count() == 0
        assert "数据已于 12月20日 10:00" in page.locator("[data-testid=period-line]").inner_text()
        journey.shot("east_submitted")

        # A client recorded after the submission, still in the period: the submitted report is
        # frozen, so it does not count there (R27). The job may not close the period early.
        clock.move_to(at("2026-12-22T15:00"))
        ClientFactory(
            name=LATE_CLIENT,
            branch=east,
            department=org.departments[("east", "pd-suzhou")],
            owner=org["east_staff"],
        )
        with pytest.raises(ValidationError):
            services.monthly_close_start(period=PERIOD)

        # The 25th job, run the morning after the deadline as its worker runs it.
        clock.move_to(at("2026-12-26T08:00"))
        close, pending = services.monthly_close_start(period=PERIOD)
        assert len(pending) == 4  # east, south, design, install; not the group HQ
        for branch_id in pending:
            services.monthly_close_part(close_id=close.pk, branch_id=branch_id)
        close.refresh_from_db()
        assert close.state == MonthlyClose.State.DONE and close.done == close.total == 4
        assert services.monthly_close_start(period=PERIOD) == (close, [])  # twice: nothing new
        # South had records and did not report: missing, told; design and install had nothing
        # new in the period: recorded as 无变化, on time, and nobody is told they are late (R26).
        late_notices = Notification.objects.filter(title="2026-12 月度客户信息报表未按时上报")
        assert set(late_notices.values_list("recipient__username", flat=True)) == {"south_manager"}
        quiet = MonthlyReport.objects.filter(period=PERIOD.label, branch__code__in=("design", "install"))
        assert {r.status for r in quiet} == {"no_change"} and all(r.on_time for r in quiet)

        # Marketing follows the closing notice to the roll-up: east on time, south missing.
        page = journey.login("marketing")
        journey.go("/notifications/")
        notice = page.locator("a.list-group-item", has_text="2026-12 月度报表已截止汇总")
        assert "按时上报 3 家(其中无变化 2 家),逾期 0 家,未上报 1 家" in notice.inner_text()
        journey.shot("marketing_notifications")
        notice.click()
        page.wait_for_url("**/reports/rollup/?period=2026-12")
        assert "2026-12" in page.locator("h1").inner_text()
        assert "截止汇总" in page.locator("[data-testid=period-filter]").inner_text()
        columns, rows, totals = read_rollup(page)
        assert set(rows) == {"east", "south", "design", "install"}
        assert rows["east"]["timeliness"] == "on_time" and rows["east"]["label"] == "按时上报"
        assert rows["south"]["timeliness"] == "missing" and rows["south"]["label"] == "未上报"
        assert rows["east"]["values"]["new_clients"] == 2  # frozen at the first submission
        assert rows["south"]["values"]["new_clients"] == 1
        assert rows["south"]["values"]["needs_received"] == 1
        check_totals(rows, totals)
        assert totals["new_clients"] == 3 and totals["needs_completion_rate"] == 50.0
        journey.shot("rollup_after_close")

        # ... opens east's report and returns it with a reason.
        page.click(f"[data-branch=east] a[href='/reports/monthly/{report.pk}/']")
        page.wait_for_url(f"**/reports/monthly/{report.pk}/")
        assert value(page, "new_clients") == "2"
        page.fill("#id_reason", REASON)
        journey.shot("marketing_return_form")
        page.click("[data-testid=return]")
        page.wait_for_load_state()
        success(page, "报表已退回")
        assert page.locator("[data-testid=status]").inner_text().strip() == "已退回"
        assert REASON in page.locator("[data-testid=returned-alert]").inner_text()
        journey.shot("marketing_returned")

        # east_manager follows the notice, sees the reason and the live figures, submits again.
        page = journey.login("east_manager")
        journey.go("/notifications/")
        notice = page.locator("a.list-group-item", has_text="2026-12 月度客户信息报表被退回")
        assert REASON in notice.inner_text()
        notice.click()
        page.wait_for_url(f"**/reports/monthly/{report.pk}/")
        assert REASON in page.locator("[data-testid=returned-alert]").inner_text()
        assert value(page, "new_clients") == "3"
        page.click("[data-testid=figure-new_clients]")
        page.wait_for_url(f"**/reports/monthly/{report.pk}/figures/new_clients/")
        assert LATE_CLIENT in page.locator("[data-testid=figure-rows]").inner_text()
        page.go_back()
        page.wait_for_load_state()
        page.fill("#id_remarks", REMARKS_AGAIN)
        journey.shot("east_returned_before_resubmit")
        page.click("[data-testid=submit]")
        page.wait_for_load_state()
        success(page, "报表已上报集团市场营销部")
        assert page.locator("[data-testid=status]").inner_text().strip() == "已上报"
        # On time or late is decided by the first submission (R28).
        assert page.locator("h1 [data-timeliness]").get_attribute("data-timeliness") == "on_time"
        entries = history(page)
        submissions = [e for e in entries if e[0].endswith("· 上报")]
        returns = [e for e in entries if e[0].endswith("· 退回")]
        assert len(submissions) == 2, entries
        assert len(returns) == 1 and REASON in returns[0][1] and "王海燕" in returns[0][0], entries
        assert "张伟" in submissions[0][0] and submissions[0][0].startswith("2026-12-20"), entries
        assert submissions[1][0].startswith("2026-12-26") and REMARKS_AGAIN in submissions[1][1], entries
        journey.shot("east_resubmitted")

        # Marketing: the roll-up with east's corrected figures; totals = sum of the branches.
        page = journey.login("marketing")
        journey.go("/reports/rollup/?period=2026-12")
        columns, rows, totals = read_rollup(page)
        assert rows["east"]["timeliness"] == "on_time"
        assert rows["south"]["timeliness"] == "missing"
        assert rows["east"]["values"]["new_clients"] == 3
        assert rows["east"]["values"]["needs_completion_rate"] == 100.0
        assert rows["south"]["values"]["needs_completion_rate"] == 0.0
        check_totals(rows, totals)
        assert totals["new_clients"] == 4 and totals["needs_received"] == 2
        journey.shot("rollup_final")
        page.locator("[data-testid=rollup-table]").evaluate(
            "t => { const box = t.closest('.table-responsive'); box.scrollLeft = box.scrollWidth; }"
        )
        journey.shot("rollup_final_right_columns")

        # The exported roll-up opens with openpyxl and says the same.
        with page.expect_download() as info:
            page.click("[data-testid=export]")
        sheet = load_workbook(BytesIO(open(info.value.path(), "rb").read())).active
        lines = list(sheet.iter_rows(values_only=True))
        header, body, footer = lines[0], lines[1:-1], lines[-1]
        assert list(header[:3]) == ["分子公司", "上报情况", "上报时间"]
        rates = {r.key for r in fig.rates()}
        assert [h.removesuffix("(%)") for h in header[3:]] == [label for _key, label in columns]
        keys = [key for key, _label in columns]

        def cell(key, excel):
            if key in rates:
                return None if excel in ("", None) else float(excel)
            return int(excel)

        by_name = {line[0]: line for line in body}
        assert len(body) == len(rows)
        for code, row in rows.items():
            line = by_name[row["name"]]
            assert line[1] == row["label"], code
            assert {k: cell(k, v) for k, v in zip(keys, line[3:], strict=True)} == row["values"], code
        assert by_name[rows["east"]["name"]][2].startswith("2026-12-26 ")  # the second submission
        assert footer[0] == "合计"
        assert {k: cell(k, v) for k, v in zip(keys, footer[3:], strict=True)} == totals
