"""Import of the 客户信息统计表 (R36): template, preview with row-by-row errors, nothing saved
until confirmed, all-or-nothing, duplicates (R10), branch scope, permissions of each route."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from clients.imports import services as importing
from clients.imports.spreadsheet import COLUMNS
from clients.models import Client, Contact, GradeChange, ImportJob, Need, Project
from crm.celery import app as celery_app
from tests.clients.factories import ClientFactory, make_credit_code

pytestmark = pytest.mark.django_db

ROUTES_COVERED = [
    "clients:import-start",
    "clients:import-template",
    "clients:import-preview",
    "clients:import-confirm",
    "clients:import-status",
    "import-job-list",
    "import-job-detail",
    "import-job-confirm",
    "import-job-retry",
    "clients:import-retry",
]

CODE_1 = make_credit_code(910_001)
CODE_2 = make_credit_code(910_002)


def row(**values):
    base = dict.fromkeys(COLUMNS, "")
    base.update(values)
    return [base[c] for c in COLUMNS]


GOOD = [
    row(
        序号=1,
        客户单位名称="上海浦东开发建设集团有限公司",
        统一社会信用代码=CODE_1,
        客户类型="国有企业",
        所属行业="城市基础设施投资",
        单位地址="上海市浦东新区世纪大道1200号",
        联系人="王建国、陈丽华",
        职务="工程管理部经理、成本合约部经理",
        联系电话="13812345678、021-68881234-802",
        电子邮箱="wangjg@pudong-dev.com.cn",
        客户阶段="签约客户",
        客户分级="A",
        合作项目="张江科学城人才公寓施工总承包工程、川沙新镇安置房项目",
        **{"合同金额(万元)": "12850.5、3200"},
        客户需求="希望引入BIM全过程应用",
        所属分公司="华东区域分公司",
        项目经理部="虹桥商务区项目经理部",
        填报人="李娜",
        填报日期="2026-03-25",
        备注="年度重点客户",
    ),
    row(
        序号=2,
        客户单位名称="苏州工业园区城市重建有限公司",
        统一社会信用代码=CODE_2,
        客户类型="国有企业",
        联系人="周海涛",
        联系电话="0512-62881234",
        客户阶段="意向客户",
        所属分公司="华东分公司",
    ),
]


def xlsx(rows, headers=COLUMNS, title_row=False) -> bytes:
    wb = Workbook()
    ws = wb.active
    if title_row:
        ws.append(["客户信息统计表(2026年3月)"])
    ws.append(list(headers))
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def eager():
    """Run the import tasks in-process (the real worker is tested in test_import_worker)."""
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = old


def upload(web, content: bytes, capture, name="客户信息统计表.xlsx"):
    with capture(execute=True):
        response = web.post(reverse("clients:import-start"), {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 302, response.content.decode()[:500]
    return response.url.rstrip("/").split("/")[-1]


def confirm(web, job, capture):
    with capture(execute=True):
        return web.post(reverse("clients:import-confirm", kwargs={"job": job}))


def report(job):
    return ImportJob.objects.get(pk=job).report


def job_row(job) -> ImportJob:
    return ImportJob.objects.get(pk=job)


def test_good_file_is_previewed_then_saved_completely(org, eager, django_capture_on_commit_callbacks):
    web = org.web("east_staff")
    job = upload(web, xlsx(GOOD, title_row=True), django_capture_on_commit_callbacks)
    preview = web.get(reverse("clients:import-preview", kwargs={"job": job}))
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "确认导入 2 个客户" in html
    assert Client.objects.count() == 0, "nothing is saved before confirmation"
    rows = report(job)["rows"]
    assert [r["errors"] for r in rows] == [[], []]
    # Staff may not set grades (R7): reported, not silently applied.
    assert rows[0]["warnings"][0]["column"] == "客户分级"

    assert confirm(web, job, django_capture_on_commit_callbacks).status_code == 302
    assert job_row(job).state == "imported"
    assert Client.objects.count() == 2
    client = Client.objects.get(credit_code=CODE_1)
    assert client.branch == org.branches["east"] and client.department.name == "虹桥商务区项目经理部"
    assert client.owner == org["east_staff"]  # 填报人 李娜 is east_staff
    assert client.stage == "signed" and client.org_type == "state_owned" and client.grade == "C"
    contacts = list(client.contacts.order_by("-is_primary"))
    assert [(c.name, c.position, c.phone_normalized) for c in contacts] == [
        ("王建国", "工程管理部经理", "13812345678"),
        ("陈丽华", "成本合约部经理", "021-68881234-802"),
    ]
    values = sorted(client.projects.values_list("contract_value", flat=True))
    assert values == [Decimal("32000000.00"), Decimal("128505000.00")]
    need = client.needs.get()
    assert need.urgency == "general" and need.response_due_at > need.received_at
    other = Client.objects.get(credit_code=CODE_2)
    assert other.phone_normalized == "" and other.contacts.get().phone == "0512-62881234"
    # History records who imported.
    assert client.history.first().history_user == org["east_staff"]
    assert client.history.first().history_change_reason == importing.IMPORT_REASON
    assert GradeChange.objects.count() == 0
    done = web.get(reverse("clients:import-preview", kwargs={"job": job})).content.decode()
    assert "已导入 2 个客户" in done
    # A second commit of the same job (at-least-once delivery) creates nothing.
    importing.import_commit(job_id=job)
    assert Client.objects.count() == 2


def test_manager_import_sets_grade_with_its_record(org, eager, django_capture_on_commit_callbacks):
    web = org.web("east_manager")
    job = upload(web, xlsx(GOOD[:1]), django_capture_on_commit_callbacks)
    confirm(web, job, django_capture_on_commit_callbacks)
    client = Client.objects.get()
    assert client.grade == "A"
    change = GradeChange.objects.get(client=client)
    assert (change.from_grade, change.to_grade, change.changed_by) == ("", "A", org["east_manager"])
    assert client.owner == org["east_staff"]


def test_bad_row_saves_nothing_and_names_row_and_column(org, eager, django_capture_on_commit_callbacks):
    bad = row(
        客户单位名称="杭州市城市建设投资集团",
        统一社会信用代码="91330100MA27XXXXXX",
        联系人="赵敏",
        联系电话="1234",
        电子邮箱="not-an-email",
        客户阶段="老客户",
        **{"合同金额(万元)": "-5"},
        合作项目="钱江新城项目",
    )
    web = org.web("east_staff")
    job = upload(web, xlsx([GOOD[0], bad]), django_capture_on_commit_callbacks)
    rows = report(job)["rows"]
    assert rows[0]["errors"] == []
    assert rows[1]["row"] == 3
    columns = {e["column"] for e in rows[1]["errors"]}
    assert columns == {"统一社会信用代码", "联系电话", "电子邮箱", "客户阶段", "合同金额(万元)"}
    html = web.get(reverse("clients:import-preview", kwargs={"job": job})).content.decode()
    assert "有错误,不能导入" in html and "确认导入" not in html
    assert 'data-row="3"' in html and "统一社会信用代码" in html
    # Confirming anyway is refused; nothing at all is saved (not even the good row).
    confirm(web, job, django_capture_on_commit_callbacks)
    assert job_row(job).state == "validated"
    with pytest.raises(importing.ImportRefused):
        importing.clients_import(user=org["east_staff"], path=job_row(job).file.path)
    assert (
        Client.objects.count()
        == Contact.objects.count()
        == Project.objects.count()
        == Need.objects.count()
        == 0
    )


def test_wrong_columns_are_reported(org, eager, django_capture_on_commit_callbacks):
    headers = ["序号", "客户名称", "统一社会信用代码", "微信号"]
    web = org.web("east_staff")
    job = upload(
        web, xlsx([[1, "某某公司", CODE_1, "wx123"]], headers=headers), django_capture_on_commit_callbacks
    )
    state = {"summary": job_row(job).summary}
    errors = " ".join(state["summary"]["file_errors"])
    assert "客户单位名称" in errors  # the required column is missing
    html = web.get(reverse("clients:import-preview", kwargs={"job": job})).content.decode()
    assert "未知的列" in html or "未找到表头" in html
    # With the header present, unknown columns are named, not dropped.
    job = upload(
        web,
        xlsx([row(客户单位名称="某某公司") + ["wx123"]], headers=[*COLUMNS, "微信号"]),
        django_capture_on_commit_callbacks,
    )
    summary = job_row(job).summary
    assert not summary["ok"] and any("微信号" in e for e in summary["file_errors"])
    assert Client.objects.count() == 0


def test_unreadable_file_is_a_clear_error(org, eager, django_capture_on_commit_callbacks):
    web = org.web("east_staff")
    job = upload(web, b"this is not a workbook", django_capture_on_commit_callbacks)
    summary = job_row(job).summary
    assert not summary["ok"] and "xlsx" in summary["file_errors"][0]
    response = web.post(reverse("clients:import-start"), {"file": SimpleUploadedFile("clients.csv", b"a,b")})
    assert response.status_code == 200 and ".xlsx" in response.content.decode()


def test_duplicates_are_reported_per_row(org, eager, django_capture_on_commit_callbacks):
    ClientFactory(
        name="上海浦东开发建设集团有限公司",
        credit_code=make_credit_code(910_009),
        branch=org.branches["south"],
        owner=org["south_staff"],
    )
    ClientFactory(
        name="东方明珠置业有限公司", credit_code=CODE_2, branch=org.branches["east"], owner=org["east_staff"]
    )
    rows = [
        row(客户单位名称="上海浦东开发建设集团", 统一社会信用代码=CODE_1),  # same name as south's client
        row(客户单位名称="宁波港务集团有限公司", 统一社会信用代码=CODE_2),  # same code as an east client
        row(客户单位名称="无锡太湖新城发展集团有限公司"),
        row(客户单位名称="无锡太湖新城发展集团 有限公司"),  # the same as the row above
    ]
    web = org.web("east_staff")
    job = upload(web, xlsx(rows), django_capture_on_commit_callbacks)
    result = report(job)["rows"]
    assert result[0]["errors"][0]["column"] == "客户单位名称"
    assert "其他单位" in result[0]["errors"][0]["message"]  # exists, but not visible: no name, no link
    assert result[1]["errors"][0]["column"] == "统一社会信用代码"
    assert "东方明珠置业有限公司" in result[1]["errors"][0]["message"]  # visible to east: named
    assert result[2]["errors"] == []
    assert result[3]["errors"] == [{"column": "客户单位名称", "message": "与本表第 4 行重复"}]
    assert Client.objects.count() == 2


def test_importing_into_another_branch_is_refused(org, eager, django_capture_on_commit_callbacks):
    rows = [row(客户单位名称="深圳前海投资控股有限公司", 所属分公司="华南区域分公司")]
    web = org.web("east_staff")
    job = upload(web, xlsx(rows), django_capture_on_commit_callbacks)
    error = report(job)["rows"][0]["errors"][0]
    assert error["column"] == "所属分公司" and "无权" in error["message"]
    rows = [row(客户单位名称="深圳前海投资控股有限公司", 所属分公司="火星分公司")]
    job = upload(web, xlsx(rows), django_capture_on_commit_callbacks)
    assert "未找到" in report(job)["rows"][0]["errors"][0]["message"]
    # Group marketing may import for any branch (R3), and sets the grade.
    web = org.web("marketing")
    rows = [
        row(
            客户单位名称="深圳前海投资控股有限公司",
            所属分公司="south",
            客户分级="B类客户",
            填报人="south_staff",
        )
    ]
    job = upload(web, xlsx(rows), django_capture_on_commit_callbacks)
    assert report(job)["rows"][0]["errors"] == []
    confirm(web, job, django_capture_on_commit_callbacks)
    client = Client.objects.get()
    assert (client.branch.code, client.grade, client.owner) == ("south", "B", org["south_staff"])


def test_template_download_explains_columns_and_validates(org, eager, django_capture_on_commit_callbacks):
    web = org.web("east_staff")
    response = web.get(reverse("clients:import-template"))
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    assert [c.value for c in wb.worksheets[0][1]] == COLUMNS
    notes = wb["填写说明"]
    documented = {r[0].value: r[2].value for r in notes.iter_rows(min_row=2) if r[0].value in COLUMNS}
    assert set(documented) == set(COLUMNS) and all(documented.values())
    # The template's own example row passes for a user of 华东 (it names 李娜 of that branch).
    job = upload(web, response.content, django_capture_on_commit_callbacks)
    assert job_row(job).summary["ok"] is True


def test_status_endpoint_and_preview_queries(
    org, eager, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    web = org.web("east_staff")
    job = upload(web, xlsx(GOOD * 1), django_capture_on_commit_callbacks)
    status = web.get(reverse("clients:import-status", kwargs={"job": job}))
    assert json.loads(status.content)["state"] == "validated"
    htmx = web.get(reverse("clients:import-status", kwargs={"job": job}), HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"] == reverse("clients:import-preview", kwargs={"job": job})
    # While running, the page polls the status endpoint.
    ImportJob.objects.filter(pk=job).update(state="running", phase="validate", done=50, total=200)
    html = web.get(reverse("clients:import-preview", kwargs={"job": job})).content.decode()
    assert 'hx-trigger="every 1s"' in html and "50 / 200" in html
    ImportJob.objects.filter(pk=job).update(state="validated")
    with django_assert_max_num_queries(20):
        assert web.get(reverse("clients:import-preview", kwargs={"job": job})).status_code == 200


# -- permissions of every import route (anonymous / no role / own / someone else's job) ------


@pytest.fixture
def job_of_east_staff(org, eager, django_capture_on_commit_callbacks):
    return upload(org.web("east_staff"), xlsx(GOOD[:1]), django_capture_on_commit_callbacks)


def routes(job):
    return [
        ("get", reverse("clients:import-start")),
        ("get", reverse("clients:import-template")),
        ("get", reverse("clients:import-preview", kwargs={"job": job})),
        ("post", reverse("clients:import-confirm", kwargs={"job": job})),
        ("get", reverse("clients:import-status", kwargs={"job": job})),
        ("post", reverse("clients:import-retry", kwargs={"job": job})),
    ]


def test_anonymous_is_sent_to_login(org, job_of_east_staff):
    web = org.web(None)
    for method, url in routes(job_of_east_staff):
        response = getattr(web, method)(url)
        assert response.status_code == 302 and reverse("login") in response.url, url


@pytest.mark.parametrize("username", ["norole", "leader", "auditor"])
def test_without_the_right_to_add_clients_is_403(org, job_of_east_staff, username):
    web = org.web(username)
    for method, url in routes(job_of_east_staff):
        assert getattr(web, method)(url).status_code == 403, (username, url)
    assert "导入客户" not in org.web(username).get(reverse("home")).content.decode()


def test_own_branch_user_reaches_every_route(org, job_of_east_staff, django_capture_on_commit_callbacks):
    web = org.web("east_staff")
    assert "导入客户" in web.get(reverse("home")).content.decode()
    for method, url in routes(job_of_east_staff):
        with django_capture_on_commit_callbacks(execute=True):
            response = getattr(web, method)(url)
        assert response.status_code in (200, 302), url
    assert Client.objects.count() == 1  # the confirm route imported the one row


def test_someone_elses_job_is_404(org, job_of_east_staff):
    for username in ("south_staff", "east_manager", "marketing"):
        web = org.web(username)
        for method, url in routes(job_of_east_staff)[2:]:
            assert getattr(web, method)(url).status_code == 404, (username, url)
    assert Client.objects.count() == 0


# -- the job row: API, at-least-once delivery, a dead worker, old uploads ---------------------


def test_api_starts_reads_and_confirms_a_job(org, eager, django_capture_on_commit_callbacks):
    api = org.api("east_staff")
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            reverse("import-job-list"),
            {"file": SimpleUploadedFile("客户信息统计表.xlsx", xlsx(GOOD))},
            format="multipart",
        )
    assert created.status_code == 201, created.content
    job = created.json()["id"]
    detail = api.get(reverse("import-job-detail", kwargs={"pk": job})).json()
    assert detail["state"] == "validated" and detail["summary"]["ok"] and len(detail["report"]["rows"]) == 2
    assert [j["id"] for j in api.get(reverse("import-job-list")).json()["results"]] == [job]
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = api.post(reverse("import-job-confirm", kwargs={"pk": job}))
    assert confirmed.status_code == 202
    after = api.get(reverse("import-job-detail", kwargs={"pk": job})).json()
    assert after["state"] == "imported" and len(after["created"]) == 2 == Client.objects.count()
    # Confirming again is refused with a message, and imports nothing more.
    again = api.post(reverse("import-job-confirm", kwargs={"pk": job}))
    assert again.status_code == 400 and "尚未通过校验" in str(again.json())
    assert Client.objects.count() == 2


def test_api_refuses_a_file_that_is_not_a_workbook(org):
    api = org.api("east_staff")
    response = api.post(
        reverse("import-job-list"), {"file": SimpleUploadedFile("clients.csv", b"a,b")}, format="multipart"
    )
    assert response.status_code == 400 and "xlsx" in str(response.json())
    assert not ImportJob.objects.exists()


def test_api_permissions(org, job_of_east_staff):
    routes = [
        ("get", reverse("import-job-list")),
        ("get", reverse("import-job-detail", kwargs={"pk": job_of_east_staff})),
        ("post", reverse("import-job-confirm", kwargs={"pk": job_of_east_staff})),
        ("post", reverse("import-job-retry", kwargs={"pk": job_of_east_staff})),
    ]
    for method, url in routes:
        assert getattr(org.api(None), method)(url).status_code in (401, 403), url
        for username in ("norole", "leader", "auditor"):
            assert getattr(org.api(username), method)(url).status_code == 403, (username, url)
    # Someone else's job does not exist for them, and their list does not show it.
    for username in ("south_staff", "east_manager", "marketing"):
        api = org.api(username)
        assert api.get(routes[0][1]).json()["count"] == 0
        for method, url in routes[1:]:
            assert getattr(api, method)(url).status_code == 404, (username, url)
    assert Client.objects.count() == 0


def test_a_second_delivery_of_a_commit_imports_nothing(org, eager, django_capture_on_commit_callbacks):
    """R36 with at-least-once delivery: the commit claims the job row; a delivery that finds it
    imported, or held by a live run, does nothing."""
    web = org.web("east_staff")
    job = upload(web, xlsx(GOOD), django_capture_on_commit_callbacks)
    importing.import_confirm(job=job_row(job))
    # A live run holds the job: a second delivery leaves it alone.
    ImportJob.objects.filter(pk=job).update(state="running")
    importing.import_commit(job_id=job)
    assert job_row(job).state == "running" and Client.objects.count() == 0
    # The holder's worker died ten minutes ago: the next delivery takes it over, once.
    from django.utils import timezone

    stale = timezone.now() - importing.STALE_AFTER - timezone.timedelta(seconds=1)
    ImportJob.objects.filter(pk=job).update(updated_at=stale)
    importing.import_commit(job_id=job)
    importing.import_commit(job_id=job)
    assert job_row(job).state == "imported" and Client.objects.count() == 2


def test_validation_of_a_job_that_moved_on_changes_nothing(org, eager, django_capture_on_commit_callbacks):
    web = org.web("east_staff")
    job = upload(web, xlsx(GOOD), django_capture_on_commit_callbacks)
    confirm(web, job, django_capture_on_commit_callbacks)
    before = job_row(job).history.count()
    importing.import_validate(job=job_row(job))  # a late second delivery of the validation
    assert job_row(job).state == "imported" and job_row(job).history.count() == before


def test_old_uploads_are_deleted_and_the_jobs_kept(
    org, eager, django_capture_on_commit_callbacks, settings, tmp_path
):
    import datetime as dt
    from pathlib import Path

    from django.utils import timezone

    settings.MEDIA_ROOT = tmp_path
    web = org.web("east_staff")
    old = upload(web, xlsx(GOOD), django_capture_on_commit_callbacks)
    new = upload(web, xlsx(GOOD[:1]), django_capture_on_commit_callbacks)
    old_file = Path(job_row(old).file.path)
    ImportJob.objects.filter(pk=old).update(created_at=timezone.now() - dt.timedelta(days=31))
    # A folder of the earlier file-based jobs, that no row knows.
    orphan = tmp_path / "imports" / "3f1c0a52-0000-4000-8000-000000000000"
    orphan.mkdir(parents=True)
    (orphan / "status.json").write_text("{}")
    month_ago = (timezone.now() - dt.timedelta(days=40)).timestamp()
    import os

    os.utime(orphan, (month_ago, month_ago))

    assert importing.import_uploads_purge() == 2
    assert not old_file.exists() and not orphan.exists()
    assert job_row(old).file_removed_at is not None and job_row(old).summary["ok"]
    assert Path(job_row(new).file.path).exists()
    assert importing.import_uploads_purge() == 0  # idempotent
    # The page of a job whose file is gone still shows its report.
    assert "确认导入" in web.get(reverse("clients:import-preview", kwargs={"job": old})).content.decode()


def test_the_purge_is_scheduled(db):
    from django_celery_beat.models import PeriodicTask

    from crm.schedules import ensure_declared

    ensure_declared()
    task = PeriodicTask.objects.select_related("crontab").get(task="clients.import_uploads_purge")
    assert (task.crontab.hour, task.crontab.minute, str(task.crontab.timezone)) == (
        "2",
        "40",
        "Asia/Shanghai",
    )


@pytest.mark.django_db(transaction=True)
def test_simultaneous_deliveries_import_once(org, eager, django_capture_on_commit_callbacks):
    """Two workers receive the same commit at once (PostgreSQL row lock): one imports."""
    import threading

    from django.db import connection

    web = org.web("east_staff")
    job = upload(web, xlsx(GOOD), django_capture_on_commit_callbacks)
    importing.import_confirm(job=job_row(job))
    barrier = threading.Barrier(2)

    def deliver():
        barrier.wait()
        try:
            importing.import_commit(job_id=job)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert job_row(job).state == "imported" and Client.objects.count() == 2


def test_the_upload_page_lists_the_users_own_jobs(org, eager, django_capture_on_commit_callbacks):
    web = org.web("east_staff")
    upload(web, xlsx(GOOD), django_capture_on_commit_callbacks, name="华东三季度客户.xlsx")
    mine = web.get(reverse("clients:import-start")).content.decode()
    assert "华东三季度客户.xlsx" in mine and "已校验" in mine
    theirs = org.web("east_manager").get(reverse("clients:import-start")).content.decode()
    assert "华东三季度客户.xlsx" not in theirs and "还没有导入过文件" in theirs


def test_a_job_whose_worker_died_shows_as_stopped_and_can_be_run_again(
    org, eager, django_capture_on_commit_callbacks
):
    """The worker was killed mid-commit: its transaction rolled back, the row still says
    running. Once it has not moved for STALE_AFTER the page says so and offers a retry."""
    import datetime as dt

    from django.utils import timezone

    web = org.web("east_staff")
    job = upload(web, xlsx(GOOD), django_capture_on_commit_callbacks)
    importing.import_confirm(job=job_row(job))
    ImportJob.objects.filter(pk=job).update(state="running")
    url = reverse("clients:import-preview", kwargs={"job": job})
    assert 'hx-trigger="every 1s"' in web.get(url).content.decode()  # still moving: polled
    # A retry of a job that is still moving is refused.
    web.post(reverse("clients:import-retry", kwargs={"job": job}))
    assert job_row(job).state == "running" and Client.objects.count() == 0

    ImportJob.objects.filter(pk=job).update(
        updated_at=timezone.now() - ImportJob.STALE_AFTER - dt.timedelta(seconds=5)
    )
    html = web.get(url).content.decode()
    assert "导入已中断" in html and "重新执行" in html and 'hx-trigger="every 1s"' not in html
    assert "已中断" in web.get(reverse("clients:import-start")).content.decode()
    status = org.api("east_staff").get(reverse("import-job-detail", kwargs={"pk": job})).json()
    assert status["stalled"] is True
    with django_capture_on_commit_callbacks(execute=True):
        web.post(reverse("clients:import-retry", kwargs={"job": job}))
    assert job_row(job).state == "imported" and Client.objects.count() == 2
    states = [h.state for h in job_row(job).history.order_by("history_date")]
    assert states[-3:] == ["queued", "running", "imported"]  # the retry is in the history


def test_api_retry_of_a_stopped_validation(org, eager, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    api = org.api("east_staff")
    job = ImportJob.objects.create(created_by=org["east_staff"], filename="a.xlsx", state="running")
    job.file.save("upload.xlsx", SimpleUploadedFile("a.xlsx", xlsx(GOOD)), save=True)
    url = reverse("import-job-retry", kwargs={"pk": job.pk})
    assert api.post(url).status_code == 400  # still moving
    ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(url).status_code == 202
    assert job_row(job.pk).state == "validated" and job_row(job.pk).summary["ok"]


def test_redelivered_messages_come_back_after_the_stale_mark(settings):
    """With Redis, a message of a dead worker comes back after the visibility timeout: later
    than a job is taken as stopped, so the redelivery may take the job over."""
    from crm.celery import app

    timeout = app.conf.broker_transport_options.get("visibility_timeout")
    if settings.REDIS_URL:
        assert timeout > ImportJob.STALE_AFTER.total_seconds()
    for name in ("clients.import_validate", "clients.import_commit"):
        task = app.tasks[name]
        assert task.acks_late and task.reject_on_worker_lost
