"""The import's save in batches (R36, issue 17): a 10,000-row sheet commits in a minute, not
five. Each table goes in with one INSERT (and one for its history) per batch, so the queries do
not grow with the rows; what a save per row did is still done: the derived keys and the search
text, the history naming the importer, R7's grade record, R11's deadlines, R13's flag of A
clients without a plan (one message per person), and the dashboards' cache is dropped."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.dashboards import selectors as dashboards
from clients.imports import services as importing
from clients.models import Client, Contact, GradeChange, ImportJob, Need, StageChange, compose_search_text
from crm.models import Notification
from tests.clients.factories import make_credit_code
from tests.clients.test_import import media, row, xlsx  # noqa: F401

pytestmark = pytest.mark.django_db


def sheet(n: int, *, start: int = 0, grade: str = "A") -> bytes:
    return xlsx(
        [
            row(
                序号=i + 1,
                客户单位名称=f"常州武进第{i + 1}建设工程有限公司",
                统一社会信用代码=make_credit_code(930_000 + i),
                客户类型="民营企业",
                联系人=f"钱{i}、孙{i}",
                职务="总经理、工程部经理",
                联系电话=f"139{i:08d}、0519-8{i:06d}",
                客户阶段="签约客户",
                客户分级=grade,
                合作项目=f"武进{i + 1}号地块住宅项目",
                **{"合同金额(万元)": "1200"},
                客户需求="希望提供全过程工程咨询",
                所属分公司="华东分公司",
            )
            for i in range(start, start + n)
        ]
    )


def commit(user, content: bytes) -> ImportJob:
    job = importing.import_job_create(user=user, upload=SimpleUploadedFile("客户信息统计表.xlsx", content))
    job = importing.import_validate(job=job)
    assert job.summary["ok"], job.report
    importing.import_confirm(job=job)
    return importing.import_commit(job_id=job.pk)


def test_rows_across_batches_are_saved_as_one_save_each_would(org, monkeypatch):
    monkeypatch.setattr(importing, "IMPORT_BATCH", 2)
    manager = org["east_manager"]
    job = commit(manager, sheet(5))
    assert job.state == "imported" and len(job.created) == 5
    clients = list(Client.objects.filter(pk__in=job.created).order_by("pk"))
    assert [c.name for c in clients] == [f"常州武进第{i + 1}建设工程有限公司" for i in range(5)]
    for i, client in enumerate(clients):
        contacts = list(client.contacts.order_by("pk"))
        assert [(c.name, c.phone_normalized) for c in contacts] == [
            (f"钱{i}", f"139{i:08d}"),
            (f"孙{i}", f"0519-8{i:06d}"),
        ]
        # The search text is what a contact's save would have rebuilt.
        pairs = [(c.name, c.phone_normalized) for c in contacts]
        assert client.search_text == compose_search_text(client.name, client.phone_normalized, pairs)
        assert client.name_normalized and client.version == 1
        assert client.projects.get().contract_value == 12_000_000
        need = client.needs.get()
        assert need.response_due_at > need.received_at and need.owner_id == client.owner_id
        stage = StageChange.objects.get(client=client)
        assert (stage.to_stage, stage.changed_by) == ("signed", manager)
        grade = GradeChange.objects.get(client=client)
        assert (grade.from_grade, grade.to_grade, grade.changed_by) == ("", "A", manager)
        assert grade.suggested_grade == "B" and grade.criteria  # the rules' own answer (R7)
        assert client.grade == "A" and client.graded_at == grade.changed_at
        history = client.history.get()
        assert history.history_user == manager and history.history_type == "+"
        assert history.history_change_reason.startswith(importing.IMPORT_REASON)
        assert "无拜访计划" in history.history_change_reason  # R13's flag, said in the history
        assert contacts[0].history.get().history_user == manager
    assert Contact.objects.filter(client__in=clients).count() == 10


def test_queries_do_not_grow_with_the_rows(org):
    manager = org["east_manager"]
    counts = []
    for start, n in ((0, 3), (100, 30)):
        content = sheet(n, start=start)
        job = importing.import_job_create(user=manager, upload=SimpleUploadedFile("a.xlsx", content))
        importing.import_confirm(job=importing.import_validate(job=job))
        with CaptureQueriesContext(connection) as queries:
            assert importing.import_commit(job_id=job.pk).state == "imported"
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_a_clients_imported_are_told_once_per_person_with_the_list(org, mailoutbox):
    job = commit(org["east_manager"], sheet(4))
    notes = Notification.objects.filter(verb="visit_plan_missing")
    told = sorted(notes.values_list("recipient__username", flat=True))
    # The owner (the importer, no 填报人) and the branch's managers: one message each for all four.
    assert told == ["east_manager"]
    note = notes.get()
    assert "4 家" in note.title and "plan=a_missing" in note.url
    assert Client.objects.filter(pk__in=job.created, grade="A").count() == 4
    from crm.outbox.services import deliveries_send_due

    deliveries_send_due()  # the worker's part: e-mail goes through the outbox (R110)
    assert len(mailoutbox) == 1


def test_the_dashboards_cache_is_dropped_by_an_import(org):
    before = dashboards._generation()
    commit(org["east_manager"], sheet(2, grade=""))
    assert dashboards._generation() > before


def test_a_sheet_longer_than_the_limit_is_refused_whole(org, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 4)
    content = sheet(5, grade="")
    job = importing.import_job_create(user=org["east_staff"], upload=SimpleUploadedFile("a.xlsx", content))
    job = importing.import_validate(job=job)
    assert job.state == "validated" and not job.summary["ok"]
    assert "一次最多导入 4 行" in " ".join(job.summary["file_errors"])
    assert importing.MAX_ROWS == 4 and Client.objects.count() == 0
    assert Need.objects.count() == 0


def test_the_limit_is_ten_thousand_rows():
    assert importing.MAX_ROWS == 10_000


def test_the_polled_status_and_the_job_list_leave_the_row_report_out(org):
    """The row report of 10,000 rows is megabytes: the status a page polls every second and the
    API's list of jobs do not read it; the preview and the API's detail do."""
    from django.urls import reverse

    user = org["east_staff"]
    job = importing.import_job_create(user=user, upload=SimpleUploadedFile("a.xlsx", sheet(3, grade="")))
    importing.import_validate(job=job)
    web, api = org.web("east_staff"), org.api("east_staff")
    reads = {
        "status": lambda: web.get(reverse("clients:import-status", kwargs={"job": job.pk})),
        "list": lambda: api.get(reverse("import-job-list")),
        "detail": lambda: api.get(reverse("import-job-detail", kwargs={"pk": job.pk})),
    }
    selects = {}
    for name, read in reads.items():
        with CaptureQueriesContext(connection) as queries:
            assert read().status_code == 200
        job_selects = [q["sql"] for q in queries if 'FROM "clients_importjob"' in q["sql"]]
        assert job_selects, name
        selects[name] = any('"clients_importjob"."report"' in sql for sql in job_selects)
    assert selects == {"status": False, "list": False, "detail": True}
