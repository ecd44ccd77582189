"""The client archive (domain.md section 2, R6-R13) and cross-branch access (R4, R5)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from crm.access import RestrictedManager, Scope
from crm.fields import LimitedTextField, NameField
from crm.models import Branch, BusinessModel, ProjectDepartment, Role, Versioned
from crm.validators import (
    normalize_credit_code,
    normalize_name,
    normalize_phone,
    validate_credit_code,
    validate_non_negative,
    validate_phone,
)

from .deadlines import need_due_rule

MONEY = {"max_digits": 16, "decimal_places": 2, "validators": [validate_non_negative]}


class Stage(models.TextChoices):
    """Lifecycle stage (客户阶段, R6). Seed 001 names the same stages twice: once as the
    classification (潜在、意向、准、签约、已开发、合作伙伴客户) and once, in what a branch collects
    during market development, by the branches' working names (投标客户、跟踪客户). R41: a
    跟踪客户 is an 意向客户 (it has shown an intention and is being followed up) and a 投标客户 is a
    准客户 (a tender is open and we bid: the step before signing); the labels carry both names,
    the codes stay (the API's contract, the stage-change trail and frozen reports keep reading
    right), and the import reads either name (``ALIASES``)."""

    POTENTIAL = "potential", _("潜在客户")
    INTENDED = "intended", _("意向客户(跟踪客户)")
    PROSPECTIVE = "prospective", _("准客户(投标客户)")
    SIGNED = "signed", _("签约客户")
    DEVELOPED = "developed", _("已开发客户")
    PARTNER = "partner", _("合作伙伴客户")


# R41: the names the branches' spreadsheets use for a stage, besides its label.
Stage.ALIASES = {
    "潜在客户": Stage.POTENTIAL,
    "意向客户": Stage.INTENDED,
    "跟踪客户": Stage.INTENDED,
    "准客户": Stage.PROSPECTIVE,
    "投标客户": Stage.PROSPECTIVE,
}


class Tracking(models.TextChoices):
    """Whether the group still pursues a client (跟踪状态, R37-R40): a C client may be given up
    (放弃跟踪, seed 001) once the branch manager confirms a proposal (``GiveUp``). Kept on the
    client (set only by clients.giveups.services) so that lists, filters, flags and the export
    read one column."""

    ACTIVE = "active", _("跟踪中")
    PROPOSED = "proposed", _("拟放弃跟踪(待确认)")
    GIVEN_UP = "given_up", _("已放弃跟踪")


class Grade(models.TextChoices):
    """Client grade (客户分级, R7)."""

    A = "A", _("A类客户")
    B = "B", _("B类客户")
    C = "C", _("C类客户")


class OrgType(models.TextChoices):
    GOVERNMENT = "government", _("政府部门")
    REAL_ESTATE = "real_estate", _("房地产企业")
    SOCIAL_ORG = "social_org", _("社会团体")
    STATE_OWNED = "state_owned", _("国有企业")
    PRIVATE = "private", _("民营企业")
    OTHER = "other", _("其他")


class SocialValue(models.TextChoices):
    """The client's social value, which sets the level of who visits an A client (R13)."""

    HIGH = "high", _("高")
    MEDIUM = "medium", _("中")
    LOW = "low", _("低")


class Tag(models.Model):
    """A free label on clients (e.g. 重点工程, 政府平台)."""

    name = models.CharField(_("标签"), max_length=30, unique=True)

    class Meta:
        verbose_name = _("标签")
        verbose_name_plural = _("标签")
        ordering = ["name"]

    def __str__(self):
        return self.name


SEARCH_SEPARATOR = "\n"  # never typed into a search box, so no match spans two parts


def compose_search_text(name: str, phone_normalized: str, contacts) -> str:
    """What the archive search reads (R36's find-and-filter; domain.md section 2): the client's
    name and phone, then each contact's name and phone, one per line. ``contacts`` are
    ``(name, phone_normalized)`` pairs in contact order."""
    parts = [name, phone_normalized]
    for contact_name, contact_phone in contacts:
        parts += [contact_name, contact_phone]
    return SEARCH_SEPARATOR.join(p for p in parts if p)


def refresh_search_text(client_ids) -> None:
    """Recompute ``Client.search_text`` of these clients from the database: after a contact is
    saved or deleted (clients.signals), or after rows went in through ``bulk_create``. A plain UPDATE: the
    client's ``updated_at`` and history are left alone, since nothing the user typed changed."""
    ids = list(client_ids)
    if not ids:
        return
    contacts: dict[int, list] = {pk: [] for pk in ids}
    for client_id, name, phone in (
        Contact.objects.filter(client_id__in=ids)
        .order_by("pk")
        .values_list("client_id", "name", "phone_normalized")
    ):
        contacts[client_id].append((name, phone))
    for pk, name, phone in Client.objects.filter(pk__in=ids).values_list("pk", "name", "phone_normalized"):
        Client.objects.filter(pk=pk).update(search_text=compose_search_text(name, phone, contacts[pk]))


def store_search_texts(texts: dict[int, str]) -> None:
    """Write precomputed search texts (client pk -> text) for a bulk load: one statement per
    thousand rows on PostgreSQL, ``bulk_update`` elsewhere."""
    items = list(texts.items())
    if connection.vendor != "postgresql":
        Client.objects.bulk_update(
            [Client(pk=pk, search_text=t) for pk, t in items], ["search_text"], batch_size=500
        )
        return
    table = connection.ops.quote_name(Client._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(items), 1000):
            batch = items[start : start + 1000]
            values = ", ".join(["(%s, %s)"] * len(batch))
            cursor.execute(
                f"UPDATE {table} AS c SET search_text = v.t FROM (VALUES {values}) AS v(id, t) WHERE c.id = v.id",
                [x for pair in batch for x in pair],
            )


class Client(Versioned, BusinessModel):
    """A client (客户/业主/甲方/建设单位): the archive form (客户档案表) of domain.md section 2.
    The record belongs to the group (R1); ``branch`` is the branch that collected it (R2)."""

    name = NameField(_("客户单位名称"), max_length=200)
    name_normalized = models.CharField(max_length=200, editable=False, db_index=True)
    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, blank=True, validators=[validate_credit_code]
    )
    org_type = models.CharField(_("客户类型"), max_length=20, choices=OrgType.choices, default=OrgType.OTHER)
    industry = models.CharField(_("所属行业"), max_length=50, blank=True)
    address = models.CharField(_("单位地址"), max_length=300, blank=True)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True, validators=[validate_phone])
    phone_normalized = models.CharField(max_length=40, blank=True, editable=False, db_index=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    parent_company = models.CharField(_("上级/母公司"), max_length=200, blank=True)

    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="clients", verbose_name=_("所属分公司")
    )
    department = models.ForeignKey(
        ProjectDepartment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="clients",
        verbose_name=_("项目经理部"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_clients",
        verbose_name=_("客户经理"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="clients", verbose_name=_("标签"))

    stage = models.CharField(_("客户阶段"), max_length=20, choices=Stage.choices, default=Stage.POTENTIAL)
    grade = models.CharField(_("客户分级"), max_length=1, choices=Grade.choices, default=Grade.C)
    graded_at = models.DateTimeField(_("定级时间"), null=True, blank=True)

    # Facts behind the suggested grade (R7); each is shown with the suggestion.
    integrity_good = models.BooleanField(_("诚信良好"), default=False)
    integrity_bad = models.BooleanField(_("有不良诚信记录"), default=False)
    credit_good = models.BooleanField(_("资信良好"), default=False)
    social_value = models.CharField(
        _("社会价值"), max_length=10, choices=SocialValue.choices, default=SocialValue.MEDIUM
    )
    near_term_need = models.BooleanField(_("近期有合作需求"), default=False)
    demanding = models.BooleanField(_("要求苛刻"), default=False)
    low_profit_complex = models.BooleanField(_("利润低且程序复杂"), default=False)
    poor_reputation = models.BooleanField(_("口碑差"), default=False)
    company_problems = models.BooleanField(_("客户自身存在问题"), default=False)
    under_observation = models.BooleanField(_("观察中,加大开发力度"), default=False)
    # R37-R40: set only by the give-up workflow (clients.giveups.services).
    tracking = models.CharField(
        _("跟踪状态"), max_length=10, choices=Tracking.choices, default=Tracking.ACTIVE, editable=False
    )

    # Client value (R9) and the evaluations of the archive form.
    design_value = LimitedTextField(_("设计产品价值"), blank=True)
    time_value = LimitedTextField(_("时间价值"), blank=True)
    service_value = LimitedTextField(_("服务价值"), blank=True)
    evaluation_of_us = LimitedTextField(_("客户对我方的评价"), blank=True)
    our_evaluation = LimitedTextField(_("我方对客户的评价"), blank=True)
    assessment_result = LimitedTextField(_("考核结果"), blank=True)
    needs_collected_on = models.DateField(_("最近需求收集日期"), null=True, blank=True)
    remarks = LimitedTextField(_("备注"), blank=True)

    # Derived: name, phone and the contacts' names and phones (compose_search_text), so that a
    # search is one condition on the client row. A 2-character Chinese term cannot use a
    # trigram index; within a branch the covering index below answers it without the table.
    search_text = models.TextField(blank=True, default="", editable=False)

    scope = Scope(branch="branch", client="pk", owner="owner")

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = _("客户档案")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~models.Q(credit_code=""),
                name="client_credit_code_unique",
                # What a parallel create that lost the race reads (crm.concurrency, R10).
                violation_error_message=_("统一社会信用代码已存在,不能重复建档。"),
            )
        ]
        indexes = [
            # The group roles' list is the whole archive sorted by name (R3).
            models.Index(fields=["name"], name="client_name_idx"),
            models.Index(fields=["branch", "name"]),
            models.Index(fields=["branch", "grade"]),
            # R38: the few clients not tracked (the archive's filter, the give-up lists).
            models.Index(
                fields=["branch", "tracking"],
                condition=~models.Q(tracking="active"),
                name="client_not_tracked_idx",
            ),
            models.Index(fields=["owner"]),
            # A branch's ids and search read this index alone (PostgreSQL; a plain index elsewhere).
            models.Index(fields=["branch"], include=["id", "search_text"], name="client_branch_search_idx"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.credit_code:
            self.credit_code = normalize_credit_code(self.credit_code)
        if self.department_id and self.branch_id and self.department.branch_id != self.branch_id:
            raise ValidationError({"department": _("项目经理部不属于所选分公司。")})
        if self.under_observation and self.tracking == Tracking.GIVEN_UP:
            # R38: a given-up client is not cultivated; resume tracking first (R39).
            raise ValidationError(
                {
                    "under_observation": _(
                        "该客户已放弃跟踪,不能标记为观察中;如需加强营销,请先由经营部负责人恢复跟踪。"
                    )
                }
            )

    def validate_constraints(self, exclude=None):
        # R10: a duplicate credit code is reported by clients.services (client_duplicates), which
        # links the existing client or names the branch holding it; the generic constraint
        # message would say neither. The database constraint stays as the last guard.
        super().validate_constraints(exclude=set(exclude or ()) | {"credit_code"})

    def derive_keys(self) -> None:
        """The derived search keys, kept in step with what they derive from (every save; a
        ``bulk_create`` calls it itself, with ``search_text`` from the new contacts)."""
        self.name = (self.name or "").strip()
        self.name_normalized = normalize_name(self.name)
        self.credit_code = normalize_credit_code(self.credit_code)
        try:
            self.phone_normalized = normalize_phone(self.phone)
        except ValidationError:
            self.phone_normalized = ""

    def save(self, *args, **kwargs):
        self.derive_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is None or {"name", "phone"} & set(update_fields):
            # Only a save that can change the name or phone rebuilds the search text (a grade or
            # stage change saves its own fields and reads no contacts).
            contacts = (
                Contact.objects.filter(client_id=self.pk)
                .order_by("pk")
                .values_list("name", "phone_normalized")
                if self.pk
                else ()
            )
            self.search_text = compose_search_text(self.name, self.phone_normalized, contacts)
            if update_fields is not None:
                kwargs["update_fields"] = {
                    *update_fields,
                    "search_text",
                    "name_normalized",
                    "phone_normalized",
                }
        super().save(*args, **kwargs)


class ClientUserObjectPermission(UserObjectPermissionBase):
    """Per-client, per-user permission written by an approved access request (R5)."""

    content_object = models.ForeignKey(Client, on_delete=models.CASCADE)


class ClientGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Client, on_delete=models.CASCADE)


class Contact(Versioned, BusinessModel):
    """A contact person of a client (联系人), with social relations (社会关系)."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("客户")
    )
    name = NameField(_("姓名"), max_length=50)
    position = models.CharField(_("职务"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True, validators=[validate_phone])
    phone_normalized = models.CharField(max_length=40, blank=True, editable=False, db_index=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    social_relations = LimitedTextField(_("社会关系"), blank=True)
    is_primary = models.BooleanField(_("主要联系人"), default=False)
    notes = LimitedTextField(_("备注"), blank=True)

    scope = Scope(branch="client__branch", client="client", owner="client__owner")

    class Meta:
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")
        ordering = ["-is_primary", "name"]

    def __str__(self):
        return f"{self.name}({self.position})" if self.position else self.name

    def derive_keys(self) -> None:
        """The normalized phone (every save; a ``bulk_create`` calls it itself)."""
        try:
            self.phone_normalized = normalize_phone(self.phone)
        except ValidationError:
            self.phone_normalized = ""

    def save(self, *args, **kwargs):
        self.derive_keys()
        super().save(*args, **kwargs)  # clients.signals then rebuilds the client's search text


class ProjectType(models.TextChoices):
    COMMERCIAL = "commercial", _("商业")
    RESIDENTIAL = "residential", _("住宅")
    CIVIL = "civil", _("民用/公共建筑")
    INDUSTRIAL = "industrial", _("工业")
    INFRASTRUCTURE = "infrastructure", _("基础设施")


class Phase(models.TextChoices):
    BIDDING = "bidding", _("招投标")
    CONTRACT = "contract", _("合同签订")
    DESIGN = "design", _("设计")
    CONSTRUCTION = "construction", _("施工")
    SETTLEMENT = "settlement", _("结算")
    COMPLETED = "completed", _("竣工")
    AFTER_SERVICE = "after_service", _("竣工后服务")


class FeeSettlement(models.TextChoices):
    """How a project's design fee was settled (R56, R58)."""

    COLLECTED = "collected", _("收齐结清")
    AGREED = "agreed", _("协商结清")


class Project(Versioned, BusinessModel):
    """A project (工程项目) with a client: the cooperation history (合作历史)."""

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="projects", verbose_name=_("客户")
    )
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="projects", verbose_name=_("承接单位")
    )
    department = models.ForeignKey(
        ProjectDepartment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="projects",
        verbose_name=_("项目经理部"),
    )
    name = NameField(_("项目名称"), max_length=200)
    code = models.CharField(_("项目编号"), max_length=40, blank=True)
    project_type = models.CharField(_("项目类型"), max_length=20, choices=ProjectType.choices)
    phase = models.CharField(_("项目阶段"), max_length=20, choices=Phase.choices, default=Phase.BIDDING)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_projects",
        verbose_name=_("项目经理"),
    )
    manager_name = models.CharField(_("项目经理姓名"), max_length=50, blank=True)
    contract_value = models.DecimalField(_("合同金额(元)"), default=Decimal("0"), **MONEY)
    cost = models.DecimalField(_("成本(元)"), default=Decimal("0"), **MONEY)
    profit = models.DecimalField(_("利润(元)"), max_digits=16, decimal_places=2, default=Decimal("0"))
    signed_on = models.DateField(_("签约日期"), null=True, blank=True)
    started_on = models.DateField(_("开工日期"), null=True, blank=True)
    completed_on = models.DateField(_("竣工日期"), null=True, blank=True)
    is_key = models.BooleanField(_("重点项目"), default=False)
    # The warranty (保修期, seed 002; R94): repairs reported after it ends are paid service.
    warranty_ends_on = models.DateField(
        _("保修期至"), null=True, blank=True, help_text=_("留空表示未约定保修期:报修按有偿维修登记。")
    )
    # The design fee (设计费, seed 000; R56-R58): what is owed, and when and how it was settled.
    # What has been collected is the sum of the project's FeeCollection rows (never stored here).
    design_fee = models.DecimalField(_("设计费(元)"), default=Decimal("0"), **MONEY)
    fee_settled_on = models.DateField(_("结清日期"), null=True, blank=True, editable=False)
    fee_settlement = models.CharField(
        _("结清方式"), max_length=12, choices=FeeSettlement.choices, blank=True, editable=False
    )
    fee_settlement_note = LimitedTextField(_("结清说明"), blank=True, editable=False)
    fee_settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("结清确认人"),
    )

    scope = Scope(branch="branch", client="client", owner="client__owner")

    class Meta:
        verbose_name = _("工程项目")
        verbose_name_plural = _("工程项目")
        ordering = ["-signed_on", "name"]
        indexes = [models.Index(fields=["client", "signed_on"])]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.started_on and self.completed_on and self.completed_on < self.started_on:
            errors["completed_on"] = _("竣工日期不能早于开工日期。")
        if self.department_id and self.branch_id and self.department.branch_id != self.branch_id:
            errors["department"] = _("项目经理部不属于所选承接单位。")
        if self.warranty_ends_on and self.completed_on and self.warranty_ends_on < self.completed_on:
            errors["warranty_ends_on"] = _("保修期截止日期不能早于竣工日期。")
        if errors:
            raise ValidationError(errors)

    def under_warranty(self, on: dt.date) -> bool:
        """R94: a repair reported on ``on`` is warranty work when the project has a warranty
        that has not ended by then; otherwise it is paid service (有偿维修)."""
        return self.warranty_ends_on is not None and on <= self.warranty_ends_on


class FeeCollection(Versioned, BusinessModel):
    """A collection (收款) of a project's design fee (seed 000: 项目竣工后,清理余下设计费用; R56,
    R57): the amount collected on the project is the sum of these rows. A row is never edited
    or deleted (the history is the ledger); a mistake is corrected by a reversal (冲销), a row of
    the opposite sign that names the row it reverses."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="fee_collections", verbose_name=_("工程项目")
    )
    collected_on = models.DateField(_("收款日期"))
    amount = models.DecimalField(_("收款金额(元)"), max_digits=16, decimal_places=2)
    note = LimitedTextField(_("备注"), blank=True)
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("冲销的收款"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("记录人")
    )

    scope = Scope(branch="project__branch", client="project__client", owner="project__client__owner")

    class Meta:
        verbose_name = _("设计费收款")
        verbose_name_plural = _("设计费收款")
        ordering = ["-collected_on", "-pk"]
        indexes = [models.Index(fields=["project", "collected_on"])]

    def __str__(self):
        return f"{self.project} {self.collected_on:%Y-%m-%d} {self.amount}"


class SiteService(Versioned, BusinessModel):
    """An on-site service record (现场服务记录) of a project during construction (seed 000:
    加强服务记录文件管理,特别是设计产品在施工阶段的现场服务记录管理; R59, R60): the day, our
    people, the problem met on site, how it was handled and the outcome; open until closed."""

    class Status(models.TextChoices):
        OPEN = "open", _("处理中")
        CLOSED = "closed", _("已解决")

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="site_services", verbose_name=_("工程项目")
    )
    served_on = models.DateField(_("服务日期"))
    our_people = models.CharField(_("我方人员"), max_length=200)
    problem = LimitedTextField(_("现场问题"))
    handling = LimitedTextField(_("处理情况"), blank=True)
    outcome = LimitedTextField(_("处理结果"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    closed_on = models.DateField(_("解决日期"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("记录人")
    )

    scope = Scope(branch="project__branch", client="project__client", owner="project__client__owner")

    class Meta:
        verbose_name = _("现场服务记录")
        verbose_name_plural = _("现场服务记录")
        ordering = ["-served_on", "-pk"]
        indexes = [models.Index(fields=["project", "served_on"])]

    def __str__(self):
        return f"{self.project} {self.served_on:%Y-%m-%d}"


class Need(Versioned, BusinessModel):
    """A client need (客户需求, seed 003) with its response deadline (R11) and tracking (R12)."""

    class Category(models.TextChoices):
        PRODUCT = "product", _("产品")
        SERVICE = "service", _("服务")
        PRICE = "price", _("价格")
        OTHER = "other", _("其他")

    class Origin(models.TextChoices):
        INITIAL = "initial", _("初始需求")
        DERIVED = "derived", _("派生需求")

    class Urgency(models.TextChoices):
        URGENT = "urgent", _("紧急")
        IMPORTANT = "important", _("重要")
        GENERAL = "general", _("一般")

    class Status(models.TextChoices):
        RECEIVED = "received", _("已接收")
        ASSESSED = "assessed", _("已评估")
        IN_PROGRESS = "in_progress", _("处理中")
        DONE = "done", _("已完成")
        REJECTED = "rejected", _("不予采纳")
        MERGED = "merged", _("已合并")

    # R51: a need closed as the duplicate of another is not a need of its own any more.
    CLOSED = (Status.DONE, Status.REJECTED, Status.MERGED)
    OPEN = (Status.RECEIVED, Status.ASSESSED, Status.IN_PROGRESS)

    class Rating(models.TextChoices):
        """R48: the client's evaluation of how the need was handled (seed 003, 需求反馈)."""

        SATISFIED = "satisfied", _("满意")
        BASICALLY_SATISFIED = "basically_satisfied", _("基本满意")
        UNSATISFIED = "unsatisfied", _("不满意")

    # R49: the ratings that count as satisfied in 需求处理满意度.
    SATISFIED_RATINGS = (Rating.SATISFIED, Rating.BASICALLY_SATISFIED)

    class RatingChannel(models.TextChoices):
        STAFF = "staff", _("工作人员录入")
        LINK = "link", _("客户通过链接评价")

    class Level(models.TextChoices):
        HIGH = "high", _("高")
        MEDIUM = "medium", _("中")
        LOW = "low", _("低")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="needs", verbose_name=_("客户"))
    project = models.ForeignKey(
        Project,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="needs",
        verbose_name=_("项目"),
    )
    category = models.CharField(_("需求类别"), max_length=20, choices=Category.choices)
    origin = models.CharField(
        _("需求来源层次"), max_length=20, choices=Origin.choices, default=Origin.INITIAL
    )
    urgency = models.CharField(_("紧急程度"), max_length=20, choices=Urgency.choices, default=Urgency.GENERAL)
    is_functional = models.BooleanField(_("功能性需求"), default=True)
    source_channel = models.CharField(_("获取渠道"), max_length=50, blank=True)
    description = LimitedTextField(_("需求内容"))
    feasibility = models.CharField(_("可行性"), max_length=10, choices=Level.choices, blank=True)
    value_assessment = models.CharField(_("价值评估"), max_length=10, choices=Level.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_needs",
        verbose_name=_("负责人"),
    )
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)
    response_due_at = models.DateTimeField(_("响应期限"), editable=False)
    due_provisional = models.BooleanField(_("期限为暂定(无节假日数据)"), default=False, editable=False)
    responded_at = models.DateTimeField(_("响应时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    response_note = LimitedTextField(_("处理意见"), blank=True)
    # R50: the assessment (seed 003, 需求评估: 可行性评估, 价值评估) and who made it when.
    assessment_note = LimitedTextField(_("评估说明"), blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("评估人"),
        editable=False,
    )
    assessed_at = models.DateTimeField(_("评估时间"), null=True, blank=True, editable=False)
    # R48: the client's rating of the handling, recorded once, by staff or through the link.
    rating = models.CharField(
        _("处理结果评价"), max_length=20, choices=Rating.choices, blank=True, editable=False
    )
    rating_comment = LimitedTextField(_("评价意见"), blank=True, editable=False)
    rating_respondent = models.CharField(_("评价人"), max_length=50, blank=True, editable=False)
    rating_channel = models.CharField(
        _("评价方式"), max_length=10, choices=RatingChannel.choices, blank=True, editable=False
    )
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True, db_index=True, editable=False)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("录入人"),
        editable=False,
    )
    rating_token_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    rating_link_expires_at = models.DateTimeField(
        _("评价链接有效期至"), null=True, blank=True, editable=False
    )
    # R51: a duplicate merged into the need that survives it.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_needs",
        verbose_name=_("合并至"),
        editable=False,
    )
    merged_at = models.DateTimeField(_("合并时间"), null=True, blank=True, editable=False)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("合并人"),
        editable=False,
    )

    scope = Scope(branch="client__branch", client="client", owner="client__owner")

    class Meta:
        verbose_name = _("客户需求")
        verbose_name_plural = _("客户需求")
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["client", "received_at"]),
            models.Index(fields=["status", "response_due_at"]),
        ]

    def __str__(self):
        return self.description[:40]

    @property
    def is_overdue(self):
        return (
            self.responded_at is None
            and self.status not in self.CLOSED
            and self.response_due_at
            and self.response_due_at < timezone.now()
        )

    @property
    def rating_link_usable(self) -> bool:
        """R48: a link was issued, has not run out, and the need is not rated yet."""
        return (
            not self.rating
            and bool(self.rating_token_hash)
            and self.rating_link_expires_at is not None
            and self.rating_link_expires_at > timezone.now()
        )

    @property
    def due_rule(self) -> str:
        """How the response deadline was computed (R11), shown beside it."""
        return need_due_rule(self.urgency)


class NeedConflict(BusinessModel):
    """Two needs of one client that contradict each other (R52; seed 003, 需求整合: «去除重复和
    矛盾的需求»): a link with a note saying how, so that whoever handles either sees the other.
    The pair is stored once, the lower id first."""

    first = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="+", verbose_name=_("需求"))
    second = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="+", verbose_name=_("矛盾的需求"))
    note = LimitedTextField(_("矛盾说明"))
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("标记人")
    )
    marked_at = models.DateTimeField(_("标记时间"), default=timezone.now)

    scope = Scope(branch="first__client__branch", client="first__client", owner="first__client__owner")

    class Meta:
        verbose_name = _("矛盾需求")
        verbose_name_plural = _("矛盾需求")
        ordering = ["-marked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["first", "second"],
                name="needconflict_one_per_pair",
                violation_error_message=_("这两条需求已标记为矛盾。"),
            ),
            models.CheckConstraint(
                condition=models.Q(first__lt=models.F("second")),
                name="needconflict_ordered_pair",
                violation_error_message=_("不能将需求与其自身标记为矛盾。"),
            ),
        ]

    def __str__(self):
        return f"{self.first} ⇄ {self.second}"

    def other(self, need: Need) -> Need:
        return self.second if need.pk == self.first_id else self.first


class Visit(Versioned, BusinessModel):
    """A contact or visit (客户接触与回访): who met whom, how, and what comes next (R13)."""

    class Channel(models.TextChoices):
        WEBSITE = "website", _("集团网站")
        PUBLICATION = "publication", _("集团刊物")
        MEETING = "meeting", _("客户座谈/考察/宴请")
        PHONE = "phone", _("电话沟通")
        ONSITE = "onsite", _("现场接触")
        VISIT = "visit", _("上门拜访")
        TECH_EXCHANGE = "tech_exchange", _("技术交流")

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="visits", verbose_name=_("客户")
    )
    plan = models.ForeignKey(
        "VisitPlan",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("拜访计划"),
    )
    visited_at = models.DateTimeField(_("拜访时间"), default=timezone.now)
    channel = models.CharField(_("接触方式"), max_length=20, choices=Channel.choices, default=Channel.VISIT)
    our_people = models.CharField(_("我方人员"), max_length=200, blank=True)
    our_level = models.CharField(_("我方人员层级"), max_length=20, blank=True)
    client_people = models.CharField(_("客户方人员"), max_length=200, blank=True)
    notes = LimitedTextField(_("拜访内容"), blank=True)
    outcome = LimitedTextField(_("拜访结果"), blank=True)
    next_step = models.CharField(_("下一步工作"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="recorded_visits",
        verbose_name=_("记录人"),
    )

    scope = Scope(branch="client__branch", client="client", owner="client__owner")

    class Meta:
        verbose_name = _("拜访记录")
        verbose_name_plural = _("拜访记录")
        ordering = ["-visited_at"]
        indexes = [models.Index(fields=["client", "visited_at"])]

    def __str__(self):
        return f"{self.client} {self.visited_at:%Y-%m-%d}"


class VisitPlan(Versioned, BusinessModel):
    """The visit plan of a client (拜访计划, R13): A clients by frequency and visitor level,
    B clients at a frequency marketing staff set, C clients none (unless under observation)."""

    class Frequency(models.TextChoices):
        DEKAD = "dekad", _("每旬")
        MONTHLY = "monthly", _("每月")
        QUARTERLY = "quarterly", _("每季度")
        HALF_YEARLY = "half_yearly", _("每半年")
        CUSTOM = "custom", _("自定义天数")

    class VisitorLevel(models.TextChoices):
        GROUP_LEADER = "group_leader", _("集团领导")
        BRANCH_LEADER = "branch_leader", _("分公司领导")
        DEPT_MANAGER = "dept_manager", _("项目经理/经营部负责人")
        MARKETING_STAFF = "marketing_staff", _("营销人员")

    FREQUENCY_DAYS = {"dekad": 10, "monthly": 30, "quarterly": 91, "half_yearly": 182}

    client = models.OneToOneField(
        Client, on_delete=models.CASCADE, related_name="visit_plan", verbose_name=_("客户")
    )
    frequency = models.CharField(_("拜访频次"), max_length=20, choices=Frequency.choices)
    interval_days = models.PositiveIntegerField(_("间隔天数"), null=True, blank=True)
    visitor_level = models.CharField(_("拜访人员层级"), max_length=20, choices=VisitorLevel.choices)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="visit_plans",
        verbose_name=_("负责人"),
    )
    next_due_on = models.DateField(_("下次拜访日期"), db_index=True)
    is_active = models.BooleanField(_("有效"), default=True)
    extra_effort = models.BooleanField(_("加大开发力度"), default=False)
    notes = models.CharField(_("说明"), max_length=300, blank=True)

    scope = Scope(branch="client__branch", client="client", owner="client__owner")

    class Meta:
        verbose_name = _("拜访计划")
        verbose_name_plural = _("拜访计划")
        ordering = ["next_due_on"]

    def __str__(self):
        return f"{self.client} · {self.get_frequency_display()}"

    @property
    def period_days(self) -> int:
        if self.frequency == self.Frequency.CUSTOM:
            return self.interval_days or 30
        return self.FREQUENCY_DAYS[self.frequency]

    def clean(self):
        if self.frequency == self.Frequency.CUSTOM and not self.interval_days:
            raise ValidationError({"interval_days": _("自定义频次需填写间隔天数。")})


class GradeChange(BusinessModel):
    """A grade change (R7): who, when, from, to, why, and what the system suggested."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="grade_changes", verbose_name=_("客户")
    )
    from_grade = models.CharField(_("原分级"), max_length=1, choices=Grade.choices, blank=True)
    to_grade = models.CharField(_("新分级"), max_length=1, choices=Grade.choices)
    suggested_grade = models.CharField(_("系统建议"), max_length=1, choices=Grade.choices)
    criteria = models.JSONField(_("依据"), default=list)
    reason = LimitedTextField(_("理由"), blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("操作人")
    )
    changed_at = models.DateTimeField(_("时间"), default=timezone.now)

    scope = Scope(branch="client__branch", client="client")

    class Meta:
        verbose_name = _("分级变更")
        verbose_name_plural = _("分级变更")
        ordering = ["-changed_at"]

    def __str__(self):
        return f"{self.client}: {self.from_grade or '-'} → {self.to_grade}"


class StageChange(BusinessModel):
    """A lifecycle stage change (R6)."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="stage_changes", verbose_name=_("客户")
    )
    from_stage = models.CharField(_("原阶段"), max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("新阶段"), max_length=20, choices=Stage.choices)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("操作人")
    )
    changed_at = models.DateTimeField(_("时间"), default=timezone.now)

    scope = Scope(branch="client__branch", client="client")

    class Meta:
        verbose_name = _("阶段变更")
        verbose_name_plural = _("阶段变更")
        ordering = ["-changed_at"]


class GiveUp(Versioned, BusinessModel):
    """Giving up on a C client (放弃跟踪, seed 001: 对于信誉低、企业自身存在问题的企业必要时放弃接触、
    跟踪; R37-R40): proposed by the client's branch, confirmed or rejected by its manager; a
    confirmed one lasts until the manager resumes tracking or a grade change to A or B ends it.
    One row per proposal; each step is a history row with its reason (as access requests)."""

    class Reason(models.TextChoices):
        POOR_REPUTATION = "poor_reputation", _("信誉低")
        COMPANY_PROBLEMS = "company_problems", _("企业自身存在问题")
        NO_PROSPECT = "no_prospect", _("无发展前景")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("待经营部负责人确认")
        REJECTED = "rejected", _("已驳回")
        GIVEN_UP = "given_up", _("已放弃跟踪")
        RESUMED = "resumed", _("已恢复跟踪")
        REGRADED = "regraded", _("因分级调整而结束")

    OPEN = (Status.PROPOSED, Status.GIVEN_UP)

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="give_ups", verbose_name=_("客户")
    )
    reason = models.CharField(_("放弃原因"), max_length=20, choices=Reason.choices)
    note = LimitedTextField(_("情况说明"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("提议人")
    )
    proposed_at = models.DateTimeField(_("提议时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("确认人"),
    )
    decided_at = models.DateTimeField(_("确认时间"), null=True, blank=True, db_index=True)
    decision_note = LimitedTextField(_("确认意见"), blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("结束人"),
    )
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    end_reason = LimitedTextField(_("结束理由"), blank=True)

    scope = Scope(branch="client__branch", client="client", owner="client__owner")

    class Meta:
        verbose_name = _("放弃跟踪")
        verbose_name_plural = _("放弃跟踪")
        ordering = ["-proposed_at"]
        constraints = [
            # R37: one open proposal or give-up per client (two parallel proposals: one wins).
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(status__in=["proposed", "given_up"]),
                name="giveup_one_open_per_client",
                violation_error_message=_("该客户已有待确认的放弃跟踪提议或已放弃跟踪。"),
            )
        ]
        indexes = [models.Index(fields=["status", "proposed_at"])]

    def __str__(self):
        return f"{self.client} · {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class AccessRequest(BusinessModel):
    """A request for another branch's clients (查阅申请, R5): group marketing reviews it and a
    group leader approves or rejects it. Scope: the requester's branch (it is their paper)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待市场营销部审核")
        FORWARDED = "forwarded", _("待集团领导审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")
        WITHDRAWN = "withdrawn", _("已撤回")

    MAX_DAYS = 90

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="access_requests",
        verbose_name=_("申请人"),
    )
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="access_requests", verbose_name=_("申请单位")
    )
    clients = models.ManyToManyField(Client, related_name="access_requests", verbose_name=_("申请查阅的客户"))
    reason = LimitedTextField(_("申请理由"))
    starts_on = models.DateField(_("开始日期"), default=timezone.localdate)
    ends_on = models.DateField(_("结束日期"))
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审核人"),
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = LimitedTextField(_("审核意见"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审批人"),
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = LimitedTextField(_("审批意见"), blank=True)

    scope = Scope(branch="branch", owner="requester")

    class Meta:
        verbose_name = _("查阅申请")
        verbose_name_plural = _("查阅申请")
        ordering = ["-created_at"]

    def __str__(self):
        return f"#{self.pk} {self.requester} {self.get_status_display()}"


class AccessGrant(BusinessModel):
    """The read access an approved request gives (授权): per-client guardian permissions for
    the requester, valid from ``starts_at`` until ``ends_at``. ``restrict`` ignores it once it
    has ended, even before the revoking job has removed the permission rows."""

    request = models.OneToOneField(
        AccessRequest, on_delete=models.PROTECT, related_name="grant", verbose_name=_("申请")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="access_grants",
        verbose_name=_("被授权人"),
    )
    clients = models.ManyToManyField(Client, related_name="access_grants", verbose_name=_("客户"))
    starts_at = models.DateTimeField(_("生效时间"))
    ends_at = models.DateTimeField(_("到期时间"), db_index=True)
    revoked_at = models.DateTimeField(_("收回时间"), null=True, blank=True)

    scope = Scope(branch="request__branch", owner="user")

    class Meta:
        verbose_name = _("查阅授权")
        verbose_name_plural = _("查阅授权")
        ordering = ["-starts_at"]

    def __str__(self):
        return f"{self.user} → {self.ends_at:%Y-%m-%d}"

    @property
    def is_active(self):
        now = timezone.now()
        return self.revoked_at is None and self.starts_at <= now < self.ends_at


class AccessLog(models.Model):
    """A read of another branch's client (R4): who, which client, when, under which grant.
    Written by the views, never edited; group marketing and auditors search it."""

    class Via(models.TextChoices):
        PAGE = "page", _("页面")
        API = "api", _("接口")
        EXPORT = "export", _("导出")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("查阅人")
    )
    user_branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("查阅人单位")
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="access_logs", verbose_name=_("客户")
    )
    grant = models.ForeignKey(
        AccessGrant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="logs",
        verbose_name=_("授权"),
    )
    via = models.CharField(_("方式"), max_length=10, choices=Via.choices)
    path = models.CharField(_("地址"), max_length=300, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    objects = RestrictedManager()
    # Only the group roles that hold view_accesslog (marketing, auditors) see the log.
    scope = Scope(branch=None)
    view_roles = (Role.MARKETING, Role.AUDITOR)

    class Meta:
        verbose_name = _("档案查阅记录")
        verbose_name_plural = _("档案查阅记录")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} → {self.client}"


def _import_upload_to(job, filename: str) -> str:
    return f"imports/{job.pk}/upload.xlsx"


class ImportJob(models.Model):
    """A spreadsheet import (R36) that a user started and waits for (design.md: such work is a
    database row that pages, the API and the worker all read). The worker validates the upload
    (``queued`` -> ``running`` -> ``validated``), the user looks at the row report and confirms,
    and the worker saves every row in one transaction (-> ``imported``) or none (-> back to
    ``validated`` with the new report, or ``failed``). Each state change is kept in history;
    progress ticks are not. Uploads are deleted by a daily job after ``IMPORT_KEEP_DAYS``."""

    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        VALIDATED = "validated", _("已校验")
        IMPORTED = "imported", _("已导入")
        FAILED = "failed", _("失败")

    class Phase(models.TextChoices):
        VALIDATE = "validate", _("校验")
        COMMIT = "commit", _("导入")

    RUNNING_STATES = (State.QUEUED, State.RUNNING)
    # A job that has not moved for this long has lost its worker (killed, or its message lost
    # on a broker without redelivery): it is shown as stopped and its user may run it again.
    # Longer than the longest step (a 10,000-row commit takes under a minute), shorter than
    # the broker's visibility timeout (settings), so a redelivered message finds it stopped.
    STALE_AFTER = dt.timedelta(minutes=5)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("导入人")
    )
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    file = models.FileField(_("文件"), upload_to=_import_upload_to, max_length=200, blank=True)
    filename = models.CharField(_("文件名"), max_length=120)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.QUEUED)
    phase = models.CharField(_("阶段"), max_length=10, choices=Phase.choices, default=Phase.VALIDATE)
    done = models.PositiveIntegerField(_("已处理行数"), default=0)
    total = models.PositiveIntegerField(_("总行数"), default=0)
    summary = models.JSONField(_("校验结果"), default=dict, blank=True)
    report = models.JSONField(_("逐行报告"), default=dict, blank=True)
    created = models.JSONField(_("新建的客户"), default=list, blank=True)  # client ids
    error = models.TextField(_("错误"), blank=True)
    attempt = models.UUIDField(null=True, blank=True, editable=False)  # the worker run that holds the commit
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    file_removed_at = models.DateTimeField(_("文件清理时间"), null=True, blank=True)

    objects = RestrictedManager()
    history = HistoricalRecords(excluded_fields=["report", "done", "total", "updated_at"])
    # Each user sees the jobs they started; administrators see every job.
    scope = Scope(branch=None, owner="created_by", personal=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.filename} ({self.get_state_display()})"

    @property
    def running(self) -> bool:
        """Queued or running, and still moving (see ``stalled``)."""
        return self.state in self.RUNNING_STATES and not self.stalled

    @property
    def stalled(self) -> bool:
        return self.state in self.RUNNING_STATES and self.updated_at < timezone.now() - self.STALE_AFTER


# B→A cultivation (R42-R47): the clients app's models, kept in a module of their own.
# Attachments of needs and visits (R61-R64): the clients app's models, kept in their package.
from .attachments.models import NeedAttachment, VisitAttachment  # noqa: E402, F401
from .cultivation.models import BEvaluation, CultivationMeasure, CultivationPlan, CultivationReview  # noqa: E402, F401

# The weekly tracking check of needs (R71-R73): the clients app's models, in a module of their own.
from .tracking.models import NeedCheck, NeedCheckFinding  # noqa: E402, F401
