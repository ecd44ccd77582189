"""factory_boy factories of the archive. Credit codes are valid (computed check digit)."""

import factory
from factory.django import DjangoModelFactory

from clients.models import Client, Contact, Need, Project, Visit
from crm.validators import CREDIT_CODE_CHARS, credit_code_check_char


def make_credit_code(n: int) -> str:
    body = "9131"
    x = n
    tail = ""
    for _ in range(13):
        tail = CREDIT_CODE_CHARS[x % 31] + tail
        x //= 31
    first17 = body + tail
    return first17 + credit_code_check_char(first17)


class ClientFactory(DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"测试客户{n:04d}建设发展有限公司")
    credit_code = factory.Sequence(lambda n: make_credit_code(n + 1000))
    org_type = "real_estate"
    industry = "房地产开发"
    address = "上海市浦东新区世纪大道100号"
    branch = None  # required: pass branch=
    owner = None  # required: pass owner=


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")
    position = "工程部经理"
    phone = factory.Sequence(lambda n: f"139{n:08d}")


class ProjectFactory(DjangoModelFactory):
    class Meta:
        model = Project

    client = None
    branch = factory.LazyAttribute(lambda o: o.client.branch)
    name = factory.Sequence(lambda n: f"测试项目{n}号楼")
    project_type = "residential"
    contract_value = 12_000_000
    cost = 10_000_000
    profit = 2_000_000


class NeedFactory(DjangoModelFactory):
    class Meta:
        model = Need

    client = None
    owner = factory.LazyAttribute(lambda o: o.client.owner)
    category = "service"
    urgency = "general"
    description = "希望缩短施工图出图周期"
    response_due_at = factory.LazyFunction(lambda: __import__("django.utils.timezone").utils.timezone.now())


class VisitFactory(DjangoModelFactory):
    class Meta:
        model = Visit

    client = None
    recorded_by = factory.LazyAttribute(lambda o: o.client.owner)
    channel = "visit"
    notes = "走访客户,了解二期项目进展"
