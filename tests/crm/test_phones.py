"""Phones (domain.md section 2): every common way of writing a mainland number is accepted and
normalised; the country code is a prefix (+86, 0086), not characters to strip."""

import pytest
from django.core.exceptions import ValidationError

from crm.validators import normalize_phone
from tests.clients.factories import ClientFactory


@pytest.mark.parametrize(
    "written,normalised",
    [
        ("021-62345678", "021-62345678"),
        ("02162345678", "021-62345678"),
        ("021 6234 5678", "021-62345678"),
        ("021-6234-5678", "021-62345678"),
        ("(021)62345678", "021-62345678"),
        ("(021) 6234-5678", "021-62345678"),
        ("(021)6234 5678", "021-62345678"),
        ("(0755)88886666", "0755-88886666"),
        ("+86-21-62345678", "021-62345678"),
        ("+86 21 6234 5678", "021-62345678"),
        ("+86 (0)21 6234 5678", "021-62345678"),
        ("+86 021-62345678", "021-62345678"),
        ("+86 10 8888 6666", "010-88886666"),
        ("0086-755-88886666", "0755-88886666"),
        ("0086 755 8888 6666", "0755-88886666"),
        ("0086-755-88886666-802", "0755-88886666-802"),
        ("+86-21-62345678转802", "021-62345678-802"),
        ("0755-88886666 ext. 802", "0755-88886666-802"),
        ("+86(755)88886666", "0755-88886666"),
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+86-138-1234-5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("＋８６　１３８１２３４５６７８", "13812345678"),  # full-width plus and digits
        ("", ""),
    ],
)
def test_common_ways_of_writing_a_mainland_number(written, normalised):
    assert normalize_phone(written) == normalised


@pytest.mark.parametrize(
    "written",
    ["12345", "+1-212-5551234", "+86-abc", "+86", "021-123", "8613812345678", "+8612345678901"],
)
def test_not_a_mainland_number_is_refused(written):
    with pytest.raises(ValidationError):
        normalize_phone(written)


@pytest.mark.django_db
def test_client_and_contact_saved_with_country_code_are_found_by_their_number(org):
    client = ClientFactory(branch=org.branches["east"], owner=org["east_staff"], phone="+86-21-62345678")
    client.full_clean()
    client.save()
    assert client.phone_normalized == "021-62345678"
    api = org.api("east_staff")
    response = api.post(
        "/api/contacts/", {"client": client.pk, "name": "张三", "phone": "0086-755-88886666"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["phone"] == "0086-755-88886666"
    assert client.contacts.get().phone_normalized == "0755-88886666"
