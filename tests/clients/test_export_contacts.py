"""The Excel export's contact columns (联系人, 职务, 联系电话, 电子邮箱; R36) keep one position per
contact, blanks included, so that a second contact's e-mail does not land in the first one's
slot, and the import reads each value back onto its own contact."""

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from clients.imports.spreadsheet import COLUMNS, export_rows
from clients.models import Client
from tests.clients.factories import ClientFactory, ContactFactory

NAME = "杭州城西科创投资有限公司"


@pytest.fixture
def client_with_contacts(org):
    client = ClientFactory(
        name=NAME,
        branch=org.branches["east"],
        owner=org["east_staff"],
        phone="0571-88001234",
        email="info@kc.cn",
    )
    # Primary first (the contacts' order): no position, no e-mail.
    ContactFactory(client=client, name="王总", is_primary=True, position="", phone="13900000001", email="")
    ContactFactory(client=client, name="李工", position="工程部经理", phone="", email="li@kc.cn")
    ContactFactory(client=client, name="赵工", position="", phone="0571-87654321", email="")
    return client


def _contact_cells(row):
    return {col: row[COLUMNS.index(col)] for col in ("联系人", "职务", "联系电话", "电子邮箱")}


def test_export_rows_keep_each_contact_in_its_position(org, client_with_contacts):
    qs = Client.objects.restrict(org["east_staff"], "view").filter(pk=client_with_contacts.pk)
    (row,) = export_rows(qs.prefetch_related("contacts", "projects", "needs"))
    assert _contact_cells(row) == {
        "联系人": "王总、李工、赵工",
        "职务": "、工程部经理、",
        "联系电话": "13900000001、、0571-87654321",
        "电子邮箱": "、li@kc.cn、",
    }


def test_a_column_blank_for_every_contact_stays_empty_and_no_contacts_gives_the_unit(org):
    client = ClientFactory(
        name=NAME, branch=org.branches["east"], owner=org["east_staff"], phone="0571-88001234"
    )
    qs = Client.objects.filter(pk=client.pk).prefetch_related("contacts", "projects", "needs")
    (row,) = export_rows(qs)
    assert _contact_cells(row)["联系电话"] == "0571-88001234"  # no contacts: the unit's phone
    ContactFactory(client=client, name="王总", is_primary=True, position="", phone="13900000001", email="")
    ContactFactory(client=client, name="李工", position="", phone="13900000002", email="")
    (row,) = export_rows(qs.all())
    assert _contact_cells(row) == {
        "联系人": "王总、李工",
        "职务": "",
        "联系电话": "13900000001、13900000002",
        "电子邮箱": "",
    }


def test_downloaded_spreadsheet_has_the_columns_aligned(org, client_with_contacts):
    response = org.web("east_staff").get(reverse("clients:client-export"))
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.getvalue())).active
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    header = next(r for r in rows if "联系人" in r)
    row = next(r for r in rows if NAME in r)
    got = {col: row[header.index(col)] or "" for col in ("联系人", "职务", "联系电话", "电子邮箱")}
    assert got["电子邮箱"] == "、li@kc.cn、" and got["职务"] == "、工程部经理、"
    assert got["联系电话"] == "13900000001、、0571-87654321"
