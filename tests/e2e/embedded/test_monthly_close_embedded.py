"""The 25th job started by hand on ``make run``'s shape (R27, R28): group marketing opens 月度截止,
enters a period whose deadline has passed and that no closing has touched yet, and clicks
执行月度截止. The web process opens the closing and sends one task per branch through the
filesystem broker; the worker process (two of them, as the Makefile starts it) closes each
branch, counts the finished parts in the SQLite database (there is no result backend) and the
last part builds the group roll-up. The page refreshes itself until the row says 已完成 with
every part done; the roll-up then shows every branch with its status and totals that are the
sums of the branch cells (and equal to the roll-up frozen on the closing). Clicking again
changes nothing: one closing, one report per branch, the same finished time, no new task.

The period: the last one due (``Period.last_due()``) unless a closing of it exists already. The
demo seeded by the fixture closes the last twelve periods, so in practice the period just before
the demo's first is taken: no branch reported it, so every branch ends 未上报 (and is held,
R33). That is why this journey runs after the other journeys of the folder (file order).

The database of the instance is read (read-only) for what the pages do not show: duplicates,
the closing's times, the attempts of each part."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import sys
import time
from contextlib import closing

import pytest

from crm.figures import Period

pytestmark = pytest.mark.e2e

CLOSE_TIMEOUT = 120  # seconds for the worker to close every branch and build the roll-up
PART_DONE = re.compile(r"Task assessments\.tasks\.monthly_close_part\[\S+\] succeeded in ([\d.]+)s")
RETRY = re.compile(r"Task assessments\.tasks\.monthly_close_part\[\S+\] retry", re.IGNORECASE)


def query(instance, sql: str, *params):
    """Rows of the instance's SQLite database, opened read-only (the processes keep writing)."""
    uri = f"file:{instance.dir / 'db.sqlite3'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=30)) as db:
        return db.execute(sql, params).fetchall()


def closing_row(instance, label: str) -> dict | None:
    rows = query(
        instance,
        "SELECT id, state, total, done, started_at, finished_at, rollup "
        "FROM assessments_monthlyclose WHERE period = ?",
        label,
    )
    assert len(rows) <= 1, rows
    if not rows:
        return None
    keys = ("id", "state", "total", "done", "started_at", "finished_at", "rollup")
    return dict(zip(keys, rows[0], strict=True))


def moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def state_of(page, label: str) -> tuple[str | None, str]:
    """The state badge and the progress text of ``label``'s row, or (None, "") while the page
    reloads itself or before the row is there."""
    try:
        row = page.locator(f"tr[data-period='{label}']")
        if row.count() != 1:
            return None, ""
        state = row.locator("[data-state]").get_attribute("data-state", timeout=2000)
        progress = row.locator(".progress-bar").inner_text(timeout=2000).strip()
        return state, progress
    except Exception:  # the auto-refresh replaced the document between two reads
        return None, ""


def number(text: str) -> int | None:
    text = text.strip().replace(",", "")
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def log_complaint(journey, username: str, received_at: dt.datetime, title: str) -> None:
    """``username`` logs a complaint received at ``received_at`` (in the past period being closed),
    so that the branch's figures of that period are not all zero."""
    page = journey.login(username)
    journey.go("/complaints/")
    page.get_by_role("link", name="登记投诉").first.click()
    page.wait_for_load_state()
    client = page.locator("#id_client option:not([value=''])").first
    page.select_option("#id_client", client.get_attribute("value"))
    page.check("input[name=kind][value=direct]")
    page.select_option("#id_channel", "phone")
    page.select_option("#id_category", "response_timeliness")
    page.select_option("#id_severity", "normal")
    page.fill("#id_complainant", "钱主任")
    page.fill("#id_complainant_phone", "13905719876")
    page.fill("#id_received_at", received_at.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_title", title)
    page.fill("#id_content", f"{title}。业主来电反映,要求尽快处理。")
    page.click("[data-testid=complaint-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/complaints/\d+/$"))
    assert page.locator(".alert-success").count() == 1, page.locator("main").inner_text()


def test_monthly_close_by_hand_on_the_embedded_instance(journey, embedded):
    # 1. group marketing opens 月度截止 from the navigation; the suggested period is the last one due.
    page = journey.login("marketing")
    page.locator("nav a.nav-link, .nav a.nav-link", has_text="月度截止").first.click()
    page.wait_for_load_state()
    assert page.url.endswith("/reports/close/"), page.url
    assert page.locator("h1").first.inner_text().strip() == "月度截止"
    last_due = Period.last_due()
    assert page.input_value("#id_period") == last_due.label
    journey.shot("close_page")

    closed = {p for (p,) in query(embedded, "SELECT period FROM assessments_monthlyclose")}
    period = last_due
    while period.label in closed:
        period = period.previous()
    label = period.label
    print(
        f"\nmonthly close: last due {last_due.label}, {len(closed)} periods closed already "
        f"({min(closed, default='-')} .. {max(closed, default='-')}); closing {label}",
        file=sys.stderr,
    )
    branches = query(
        embedded, "SELECT id, code FROM crm_branch WHERE is_active AND kind != 'hq' ORDER BY sort_order, code"
    )
    assert branches, "no reporting branch in the demo"
    reports_before = query(
        embedded, "SELECT COUNT(*) FROM assessments_monthlyreport WHERE period = ?", label
    )[0][0]

    # Complaints received in that period by two branches (east two, south one), logged before the
    # closing: its frozen figures and the roll-up's totals then have something to add up.
    received = dt.datetime.combine(period.first_day + dt.timedelta(days=6), dt.time(10, 30))
    logged = {"east": 2, "south": 1}
    for code, n in logged.items():
        for i in range(n):
            log_complaint(
                journey, f"{code}_staff", received + dt.timedelta(days=i), f"{label} 月报测试投诉{i + 1}"
            )
    journey.shot("complaint_logged")
    before_demo = not closed or label < min(closed)  # nothing else of the demo falls in it
    page = journey.login("marketing")
    journey.go("/reports/close/")

    # 2. run it: the web answers at once, the worker does the parts.
    log_offset = len(embedded.log("worker"))
    page.fill("#id_period", label)
    page.click("[data-testid=run-close]")
    clicked = time.monotonic()
    page.wait_for_load_state()
    assert f"已开始 {label} 的月度截止" in page.locator(".alert-success").inner_text()
    answered = time.monotonic() - clicked
    state, progress = state_of(page, label)
    assert state in ("running", "done"), (state, page.locator("main").inner_text())
    if state == "running":
        assert page.locator("[data-auto-refresh]").count() == 1, "a running closing must refresh the page"
        journey.shot("running")

    # 3. wait while the page refreshes itself, until the row says 已完成 with every part done.
    seen = [progress] if progress else []
    deadline = clicked + CLOSE_TIMEOUT
    while True:
        state, progress = state_of(page, label)
        if progress and (not seen or seen[-1] != progress):
            seen.append(progress)
        if state == "done":
            break
        embedded.assert_running()
        assert time.monotonic() < deadline, (
            f"{label} not closed after {CLOSE_TIMEOUT} s (seen {seen}): {closing_row(embedded, label)}"
        )
        page.wait_for_timeout(250)
    shown_after = time.monotonic() - clicked
    page.wait_for_load_state()
    row = page.locator(f"tr[data-period='{label}']")
    assert row.count() == 1
    assert row.locator("[data-state]").inner_text().strip() == "已完成"
    assert progress == f"{len(branches)}/{len(branches)}", (progress, seen)
    finished_text = row.locator("td").nth(4).inner_text().strip()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", finished_text), finished_text
    assert row.locator("td").nth(5).inner_text().strip() == "王海燕"  # started by her, not the schedule
    assert page.locator("[data-auto-refresh]").count() == 0, "the page still refreshes after the closing"
    journey.shot("done")

    close = closing_row(embedded, label)
    assert close["state"] == "done" and close["done"] == close["total"] == len(branches), close
    worker_seconds = (moment(close["finished_at"]) - moment(close["started_at"])).total_seconds()
    worker_log = embedded.log("worker")[log_offset:]
    part_times = [float(s) for s in PART_DONE.findall(worker_log)]
    parts = query(
        embedded,
        "SELECT branch_id, done_at, attempts FROM assessments_closepart WHERE close_id = ?",
        close["id"],
    )
    assert sorted(b for b, _d, _a in parts) == sorted(b for b, _c in branches), parts
    assert all(done_at for _b, done_at, _a in parts), parts
    assert len(part_times) == len(branches), (part_times, worker_log[-3000:])
    attempts = sorted(a for _b, _d, a in parts)
    retries = RETRY.findall(worker_log)
    print(
        f"monthly close {label}: {len(branches)} branches; web answered in {answered:.2f} s; "
        f"worker from start to roll-up {worker_seconds:.2f} s (started_at -> finished_at); "
        f"parts {', '.join(f'{t:.2f}' for t in part_times)} s (sum {sum(part_times):.2f} s); "
        f"attempts {attempts}; retries {len(retries)}; page showed 已完成 after {shown_after:.1f} s; "
        f"progress seen {seen}",
        file=sys.stderr,
    )
    embedded.timings[f"monthly close {label}: worker"] = worker_seconds
    embedded.timings[f"monthly close {label}: page"] = shown_after

    # 4. the roll-up of the period: every branch with its status, totals the sums of the cells.
    row.get_by_role("link", name="集团汇总").click()
    page.wait_for_url(re.compile(rf".*/reports/rollup/\?period={label}$"))
    page.wait_for_load_state()
    assert label in page.locator("h1").first.inner_text()
    assert "截止汇总" in page.locator("[data-testid=period-filter]").inner_text()
    rows = page.locator("[data-testid=rollup-table] tbody tr[data-branch]")
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.branch)")) == sorted(c for _b, c in branches)
    timeliness = {}
    for i in range(rows.count()):
        r = rows.nth(i)
        badge = r.locator("[data-timeliness]")
        assert badge.count() == 1, r.inner_text()
        value = badge.get_attribute("data-timeliness")
        assert value in ("on_time", "late", "missing", "returned"), (value, r.inner_text())
        assert badge.inner_text().strip(), r.inner_text()
        timeliness[r.get_attribute("data-branch")] = value
    if reports_before == 0:  # nobody reported this period: 未上报, or 无变化 on time where nothing happened
        assert set(timeliness.values()) <= {"missing", "on_time"}, timeliness
        for code, value in timeliness.items():
            row_text = page.locator(f"[data-testid=rollup-table] tbody tr[data-branch={code}]").inner_text()
            assert ("无变化" in row_text) == (value == "on_time"), (code, value, row_text)
        if "missing" in timeliness.values():
            assert page.locator("[data-timeliness=missing]").first.inner_text().strip() == "未上报"
    journey.shot("rollup")

    cells = page.evaluate(
        """() => {
            const rows = [...document.querySelectorAll('[data-testid=rollup-table] tbody tr[data-branch]')];
            const out = {totals: {}, branches: {}};
            for (const td of document.querySelectorAll('[data-testid=totals] td[data-total]'))
                out.totals[td.dataset.total] = td.innerText;
            for (const r of rows) {
                out.branches[r.dataset.branch] = {};
                for (const td of r.querySelectorAll('td[data-value]'))
                    out.branches[r.dataset.branch][td.dataset.value] = td.innerText;
            }
            return out;
        }"""
    )
    frozen = json.loads(close["rollup"])
    assert {b["branch"] for b in frozen["branches"]} and len(frozen["branches"]) == len(branches)
    compared = {}
    for key, total_text in cells["totals"].items():
        total = number(total_text)
        if total is None:  # a rate ("12.5%" or "—"): recomputed from the summed counts, not summed
            continue
        per_branch = [number(cells["branches"][code][key]) for code in cells["branches"]]
        assert None not in per_branch, (key, per_branch)
        assert sum(per_branch) == total, (
            f"{key}: the branches sum to {sum(per_branch)}, the total says {total}"
        )
        assert (frozen["totals"].get(key) or 0) == total, (key, frozen["totals"].get(key), total)
        compared[key] = total
    assert len(compared) >= 3, cells["totals"]
    for code, n in logged.items():
        shown = number(cells["branches"][code]["complaints_received"])
        assert shown == n if before_demo else shown >= n, (code, shown, n)
    assert compared["complaints_received"] >= sum(logged.values()), compared
    print(f"roll-up {label}: totals checked against the branch cells: {compared}", file=sys.stderr)

    # 5. run it again: it is done, so nothing changes and no task goes to the worker.
    reports = query(
        embedded,
        "SELECT branch_id, status, closed_at FROM assessments_monthlyreport WHERE period = ? ORDER BY branch_id",
        label,
    )
    assert len(reports) == len(branches), reports
    if reports_before == 0:
        assert {status for _b, status, _c in reports} <= {"missing", "no_change"}, reports
    notices = query(
        embedded, "SELECT COUNT(*) FROM crm_notification WHERE key = ?", f"monthly-close:{label}"
    )[0][0]
    assert notices >= 1, "group marketing was not told of the closing"
    log_offset = len(embedded.log("worker"))
    journey.go("/reports/close/")
    page.fill("#id_period", label)
    page.click("[data-testid=run-close]")
    page.wait_for_load_state()
    said = page.locator(".alert-success").inner_text()
    assert f"{label} 已于" in said and "本次重复执行未做任何更改" in said, said  # says what it did
    page.wait_for_timeout(3000)  # time for a stray task to reach the worker
    page.reload()
    row = page.locator(f"tr[data-period='{label}']")
    assert row.count() == 1
    assert row.locator("[data-state]").get_attribute("data-state") == "done"
    assert row.locator(".progress-bar").inner_text().strip() == f"{len(branches)}/{len(branches)}"
    assert row.locator("td").nth(4).inner_text().strip() == finished_text
    assert page.locator("[data-auto-refresh]").count() == 0
    journey.shot("run_again")

    again = closing_row(embedded, label)
    assert again == close, (again, close)
    parts_again = query(
        embedded,
        "SELECT branch_id, done_at, attempts FROM assessments_closepart WHERE close_id = ?",
        close["id"],
    )
    assert sorted(parts_again) == sorted(parts), (parts_again, parts)
    assert (
        query(
            embedded,
            "SELECT branch_id, status, closed_at FROM assessments_monthlyreport WHERE period = ? ORDER BY branch_id",
            label,
        )
        == reports
    )
    duplicates = query(
        embedded,
        "SELECT branch_id, period, COUNT(*) FROM assessments_monthlyreport GROUP BY branch_id, period HAVING COUNT(*) > 1",
    )
    assert not duplicates, duplicates
    assert query(embedded, "SELECT COUNT(*) FROM assessments_monthlyclose WHERE period = ?", label)[0][0] == 1
    assert (
        query(embedded, "SELECT COUNT(*) FROM crm_notification WHERE key = ?", f"monthly-close:{label}")[0][0]
        == notices
    )
    assert not PART_DONE.search(embedded.log("worker")[log_offset:]), (
        "the second run sent parts to the worker"
    )

    # 6. group marketing was told, and the notice leads to the roll-up.
    journey.go("/notifications/")
    notice = page.locator("main a.list-group-item", has_text=f"{label} 月度报表已截止汇总").first
    notice.click()
    page.wait_for_url(re.compile(rf".*/reports/rollup/\?period={label}$"))
    journey.shot("notice_to_rollup")
