"""Formula injection (OWASP "CSV injection") in the Excel exports: the shared helper writes every
formula-looking text as a plain string cell, and every export route goes through it, so a
client named ``=HYPERLINK(...)`` is downloaded as that text, never as a live formula. The cell
keeps the original text (no ``'`` added to the value) and carries Excel's quote-prefix style."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from crm.exports import is_formula_like, workbook, xlsx_response
from tests.clients.factories import ClientFactory, NeedFactory

pytestmark = pytest.mark.django_db

NAME = '=HYPERLINK("http://evil.example/x","点我")公司'
ADDRESS = "=1+1"
NASTY = [NAME, ADDRESS, "+1+2", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0"]


def cells(content: bytes):
    return [c for row in load_workbook(BytesIO(content)).active.iter_rows() for c in row]


def assert_no_formula(response, *texts):
    """No formula cell anywhere in the download, and each of ``texts`` shown as written."""
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    all_cells = cells(response.getvalue())  # streamed or not
    assert [c.coordinate for c in all_cells if c.data_type == "f"] == []
    values = {c.value for c in all_cells}
    for text in texts:
        assert any(isinstance(v, str) and text in v for v in values), (text, values)
    for c in all_cells:
        if is_formula_like(c.value):
            assert c.data_type == "s" and c.quotePrefix


# -- unit ----------------------------------------------------------------------------------------


def test_formula_like_text_is_written_as_text():
    today = dt.date(2026, 3, 1)
    moment = timezone.make_aware(dt.datetime(2026, 3, 1, 9, 30))
    wb = workbook("t", ["=表头", "b", "c", "d", "e", "f"], [[*NASTY[:2], -5, 3.5, today, moment], NASTY])
    buffer = BytesIO()
    wb.save(buffer)
    sheet = load_workbook(BytesIO(buffer.getvalue())).active
    header, first, second = list(sheet.iter_rows())
    assert header[0].value == "=表头" and header[0].data_type == "s"
    for cell, text in zip(second, NASTY, strict=True):
        # XML reads a stored carriage return back as a line feed; the text is otherwise intact.
        assert cell.data_type == "s" and cell.value == text.replace("\r", "\n") and cell.quotePrefix
    assert first[0].value == NAME and first[1].value == ADDRESS
    assert [c.data_type for c in first[:2]] == ["s", "s"]
    # Numbers and dates stay numbers and dates; a negative number is not an injection.
    assert first[2].value == -5 and first[2].data_type == "n" and not first[2].quotePrefix
    assert first[3].value == 3.5 and first[3].data_type == "n"
    assert first[4].value == dt.datetime(2026, 3, 1) and first[4].data_type == "d"
    assert first[5].value == dt.datetime(2026, 3, 1, 9, 30) and first[5].data_type == "d"


def test_plain_text_is_untouched():
    response = xlsx_response("t", "t", ["a", "b"], [["上海建工=第一", "a-b"]])
    row = list(load_workbook(BytesIO(response.content)).active.iter_rows())[1]
    assert [c.value for c in row] == ["上海建工=第一", "a-b"]
    assert not any(c.quotePrefix for c in row)


def test_is_formula_like():
    assert all(is_formula_like(t) for t in NASTY)
    assert not any(is_formula_like(v) for v in ("公司", "", None, -5, 1.5, "a=1"))


# -- every export route ------------------------------------------------------------------------


def make_client(org, branch_code="east", **kwargs):
    kwargs.setdefault("name", NAME)
    kwargs.setdefault("address", ADDRESS)
    return ClientFactory(branch=org.branches[branch_code], owner=org[f"{branch_code}_staff"], **kwargs)


def test_client_list_export(org):
    make_client(org)
    response = org.web("east_staff").get(reverse("clients:client-export"))
    assert_no_formula(response, NAME, ADDRESS)


def test_needs_export(org):
    NeedFactory(client=make_client(org), description="=1+1 需要报价")
    response = org.web("east_staff").get(reverse("clients:need-export"))
    assert_no_formula(response, NAME, "=1+1 需要报价")


def test_overdue_visits_export(org):
    from clients.models import VisitPlan

    client = make_client(org)
    VisitPlan.objects.update_or_create(
        client=client,
        defaults={
            "frequency": VisitPlan.Frequency.choices[0][0],
            "visitor_level": VisitPlan.VisitorLevel.choices[0][0],
            "responsible": org["east_staff"],
            "next_due_on": timezone.localdate() - dt.timedelta(days=3),
            "is_active": True,
        },
    )
    response = org.web("east_manager").get(reverse("clients:visit-overdue-list"), {"export": "xlsx"})
    assert_no_formula(response, NAME)


def test_complaints_export(org):
    from tests.complaints.conftest import make_complaint

    make_complaint(org, client=make_client(org), title='=HYPERLINK("http://x","投诉")')
    response = org.web("east_staff").get(reverse("complaints:complaint-list"), {"export": "xlsx"})
    assert_no_formula(response, NAME, '=HYPERLINK("http://x","投诉")')


def test_access_exports(org):
    from clients.access import services as svc
    from tests.clients.grants import make_grant

    client = make_client(org)
    svc.access_request_create(
        requester=org["south_staff"], clients=[client], reason="=1+1 投标", ends_on=timezone.localdate()
    )
    make_grant(org, org["design_staff"], client, active=True)
    requests = org.web("marketing").get(reverse("clients:access-request-list"), {"export": "xlsx"})
    assert_no_formula(requests, NAME, "=1+1 投标")
    grants = org.web("design_staff").get(reverse("clients:access-grant-list"), {"export": "xlsx"})
    assert_no_formula(grants, NAME)
    org.web("design_staff").get(reverse("clients:client-detail", kwargs={"pk": client.pk}))
    log = org.web("marketing").get(reverse("clients:access-log-list"), {"export": "xlsx"})
    assert_no_formula(log)


def test_survey_exports(org):
    from surveys import services
    from surveys.models import FollowUp, SurveyTemplate
    from tests.surveys.conftest import ensure_shipped_templates, scores_for

    ensure_shipped_templates()
    client = make_client(org)
    template = SurveyTemplate.objects.get(code="standard")
    survey = services.survey_create(by=org["east_staff"], client=client, template=template)
    services.survey_enter_paper(
        survey=survey, by=org["east_staff"], scores=scores_for(template, low=(0,)), respondent="=赵工"
    )
    FollowUp.objects.filter(client=client).update(note="-1 已回访")
    web = org.web("east_manager")
    assert_no_formula(web.get(reverse("surveys:survey-list"), {"export": "xlsx"}), NAME, "=赵工")
    followups = web.get(reverse("surveys:followup-list"), {"export": "xlsx"})
    assert_no_formula(followups, NAME, "-1 已回访")
    assert_no_formula(web.get(reverse("surveys:results"), {"export": "xlsx"}))


def test_the_streamed_workbook_is_as_safe_as_the_other():
    """The whole-archive export (streamed) writes formula-looking text as text too."""
    from io import BytesIO

    from openpyxl import load_workbook

    from crm.exports import streamed_xlsx_response

    response = streamed_xlsx_response("t", "t", ["名称", "数值"], iter([["=1+1", -5], ["@SUM(A1)", 3]]))
    sheet = load_workbook(BytesIO(response.getvalue())).active
    cells = [[c for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells[0]] == ["=1+1", -5] and cells[0][0].data_type == "s"
    assert cells[0][0].quotePrefix and cells[1][0].value == "@SUM(A1)" and cells[1][0].data_type == "s"
    assert cells[0][1].data_type == "n"


def test_the_streamed_workbook_keeps_every_kind_of_value():
    """Text with markup characters, spaces at either end and line breaks comes back as written;
    numbers, dates and times stay what they are; the header is bold on blue and frozen."""
    from decimal import Decimal
    from io import BytesIO

    from openpyxl import load_workbook

    from crm.exports import xlsx_stream

    moment = timezone.make_aware(dt.datetime(2026, 3, 1, 9, 30))
    texts = ['a<b>&"c"', "  前后有空格  ", "第一行\n第二行", "\r=1+1", "控制\x01字符"]
    rows = [[*texts, 3, Decimal("12.50"), dt.date(2026, 2, 28), moment, True, None, ""]]
    headers = ["甲", "乙", "丙", "丁", "戊", "整数", "金额", "日期", "时间", "是否", "空", "空串"]
    book = load_workbook(BytesIO(b"".join(xlsx_stream("表<1>", headers, rows, widths=[30]))))
    sheet = book.active
    assert sheet.title == "表<1>" and sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width == 30
    head = list(sheet.iter_rows(max_row=1))[0]
    assert (
        [c.value for c in head] == headers and head[0].font.b and head[0].fill.fgColor.rgb.endswith("DDE6F0")
    )
    values = [c.value for c in list(sheet.iter_rows(min_row=2))[0]]
    assert values[:5] == texts[:4] + ["控制字符"]  # a control character XML cannot hold is dropped
    assert values[5] == 3 and values[6] == 12.5
    assert values[7] == dt.datetime(2026, 2, 28) and values[8] == dt.datetime(2026, 3, 1, 9, 30)
    assert values[9] is True and values[10] is None and values[11] is None
    assert list(sheet.iter_rows(min_row=2))[0][3].quotePrefix  # a carriage return then a formula
    assert not list(sheet.iter_rows(min_row=2))[0][0].quotePrefix


def test_the_stream_starts_before_the_rows_are_read():
    """The first bytes leave before the first row is asked for, and the rows are pulled in
    batches: a long export never holds the whole file or keeps the reader waiting for it."""
    from crm.exports import xlsx_stream

    pulled = []

    def rows():
        for n in range(1200):
            pulled.append(n)
            yield [n, f"客户{n}"]

    stream = xlsx_stream("t", ["序号", "名称"], rows())
    first = next(stream)
    assert first.startswith(b"PK") and pulled == []
    sizes = []
    for _chunk in stream:
        sizes.append(len(pulled))
    assert len(pulled) == 1200 and sizes[0] == 500  # the first batch of rows, not all of them


def test_money_keeps_its_exact_value_with_a_number_format():
    """Pages show money in 万元 with separators; exports keep the exact number, formatted."""
    from decimal import Decimal

    wb = workbook("金额", ["项目", "合同金额(元)", "数量"], [["一期", Decimal("10407708558.35"), 3]])
    buffer = BytesIO()
    wb.save(buffer)
    sheet = load_workbook(BytesIO(buffer.getvalue())).active
    money, count = sheet.cell(row=2, column=2), sheet.cell(row=2, column=3)
    assert money.value == pytest.approx(10407708558.35) and money.number_format == "#,##0.00"
    assert count.value == 3 and count.number_format == "General"
