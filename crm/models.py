"""The organisation (domain.md section 1), the shared base model and the rows that access
control consults (suspensions, R33), notifications and the holiday calendar overrides."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from . import request_id
from .access import RestrictedManager, Scope


class HistoryContext(models.Model):
    """Abstract base of every historical record: the request, or ``job:<task id>``, that made
    the change (crm/request_id.py). A default rather than a signal, so that the rows written
    by ``bulk_create_with_history`` / ``bulk_update_with_history`` carry it too."""

    request_id = models.CharField(_("请求编号"), max_length=64, blank=True, default=request_id.get)

    class Meta:
        abstract = True


class BusinessModel(models.Model):
    """Base of every business model: timestamps, the restricted manager and history.

    Subclasses declare ``scope = Scope(...)``: how to reach the owning branch, the client
    (for per-client grants, R5) and the account owner (for suspensions, R33) from a row.
    """

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = RestrictedManager()
    history = HistoricalRecords(inherit=True, bases=[HistoryContext])
    scope = Scope(branch="branch")

    class Meta:
        abstract = True


class StaleVersion(ValidationError):
    """A save of a ``Versioned`` row whose version is no longer the stored one: someone else
    saved it in between (a page, the API or a workflow step). Nothing was written. It is a
    ValidationError so that every page and API path that shows a service's refusal shows this
    one too; the edit pages and the base viewset answer it with what changed (409 in the API)."""

    def __init__(self, obj=None, expected=None):
        self.obj, self.expected = obj, expected
        super().__init__(_("该记录已被他人修改,本次未保存。请核对最新内容后重新提交。"), code="stale")


class Versioned(models.Model):
    """Optimistic locking for rows that people edit in forms (lost updates): ``version`` goes up
    by one on every ``save()``, and the UPDATE only matches the row while it still has the
    version this instance was loaded (or told) with: ``UPDATE ... SET version = v + 1 WHERE
    id = %s AND version = v``. On PostgreSQL a concurrent writer blocks on the row and then
    matches nothing; on SQLite writers are serialized (IMMEDIATE). No match raises StaleVersion.

    Mixed in before BusinessModel (``class Client(Versioned, BusinessModel)``); the base form
    (crm.forms.VersionedFormMixin) carries the version in a hidden field and the base viewset
    (crm.api.base) answers ETag / If-Match. Queryset ``update()`` and ``bulk_update`` (derived
    columns such as the search text) bypass it on purpose: they change nothing a person typed."""

    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding or self.pk is None:
            self._expected_version = None
            return super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "version"}
        expected = self._expected_version = self.version
        self.version = expected + 1
        try:
            return super().save(*args, **kwargs)
        except BaseException:
            self.version = expected
            raise
        finally:
            self._expected_version = None

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        expected = getattr(self, "_expected_version", None)
        if expected is None:
            return super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update)
        if super()._do_update(
            base_qs.filter(version=expected), using, pk_val, values, update_fields, forced_update
        ):
            return True
        if base_qs.filter(pk=pk_val).exists():
            raise StaleVersion(self, expected)
        return False  # deleted meanwhile: Django's own handling (insert, or "did not affect any rows")


class Branch(models.Model):
    """A unit of the group: the HQ itself or a subsidiary (分子公司). Archive access is granted
    by guardian object permissions on this row (design.md, access control)."""

    class Kind(models.TextChoices):
        HQ = "hq", _("集团总部")
        PROFESSIONAL = "professional", _("专业分公司")
        REGIONAL = "regional", _("区域分公司")

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=30, blank=True)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.REGIONAL)
    region = models.CharField(_("区域"), max_length=50, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=100)

    objects = RestrictedManager()
    scope = Scope(branch="pk")

    class Meta:
        verbose_name = _("分子公司")
        verbose_name_plural = _("分子公司")
        ordering = ["sort_order", "code"]
        permissions = [
            ("view_branch_archive", _("查阅本单位客户档案")),
            ("change_branch_archive", _("编辑本单位客户档案")),
            ("manage_branch_archive", _("管理本单位客户档案(删除、定级、上报)")),
        ]

    def __str__(self):
        return self.short_name or self.name


class BranchUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Branch, on_delete=models.CASCADE)


class BranchGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Branch, on_delete=models.CASCADE)


class ProjectDepartment(models.Model):
    """A project department (项目经理部), one per project site, or the business department."""

    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="departments", verbose_name=_("分子公司")
    )
    name = models.CharField(_("名称"), max_length=100)
    code = models.SlugField(_("代码"), max_length=40)
    is_business_dept = models.BooleanField(_("经营部"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = RestrictedManager()
    scope = Scope(branch="branch")

    class Meta:
        verbose_name = _("项目经理部")
        verbose_name_plural = _("项目经理部")
        ordering = ["branch", "-is_business_dept", "name"]
        constraints = [models.UniqueConstraint(fields=["branch", "code"], name="dept_code_unique_in_branch")]

    def __str__(self):
        return f"{self.branch} · {self.name}"


class Role(models.TextChoices):
    """The roles of domain.md section 1. Branch roles get their branch's archive through guardian
    object permissions; group roles hold model-level permissions (R3)."""

    STAFF = "staff", _("项目经理部/经营部人员")
    MANAGER = "manager", _("分公司经营部负责人")
    MARKETING = "marketing", _("集团市场营销部")
    LEADER = "leader", _("集团领导")
    AUDITOR = "auditor", _("考核人员")
    ADMIN = "admin", _("系统管理员")


BRANCH_ROLES = (Role.STAFF, Role.MANAGER)
GROUP_ROLES = (Role.MARKETING, Role.LEADER, Role.AUDITOR)


class User(AbstractUser):
    """A person of the group. ``branch`` and ``role`` decide what they see; the auth groups that
    carry the permissions are kept in step by ``crm.services.user_set_role``."""

    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    branch = models.ForeignKey(
        Branch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("分子公司"),
    )
    department = models.ForeignKey(
        ProjectDepartment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("项目经理部"),
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, blank=True)
    title = models.CharField(_("职务"), max_length=50, blank=True)
    # R113: the language of this person's pages, notices, e-mails and digests, whoever caused
    # them. Blank: not chosen (pages follow the browser; notices use the default, Chinese).
    language = models.CharField(_("语言"), max_length=10, blank=True, choices=settings.LANGUAGES, default="")

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]

    def __str__(self):
        return self.full_name or self.username

    @property
    def display_name(self):
        return self.full_name or self.get_full_name() or self.username

    @property
    def is_branch_user(self):
        return self.role in BRANCH_ROLES

    @property
    def is_group_user(self):
        return self.role in GROUP_ROLES or self.role == Role.ADMIN or self.is_superuser


class Notification(models.Model):
    """An in-app message to one user; e-mail goes out alongside through ``notify()``.
    ``key`` makes a notification idempotent: jobs that run twice do not notify twice."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    verb = models.CharField(_("类别"), max_length=40)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    key = models.CharField(max_length=200, blank=True)
    # The event this row shows in the app (R109); title and body are in the recipient's language.
    notice = models.ForeignKey(
        "crm.Notice", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"], condition=~models.Q(key=""), name="notification_key_unique"
            )
        ]

    def __str__(self):
        return self.title


class HolidayOverride(models.Model):
    """An admin's correction of the working-day calendar for one date: a holiday that
    chinesecalendar does not know, or a 调休 working weekend (R11, R16)."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否工作日"))
    name = models.CharField(_("说明"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("节假日调整")
        verbose_name_plural = _("节假日调整")
        ordering = ["-date"]

    def __str__(self):
        return f"{self.date} {_('工作日') if self.is_workday else _('休息日')} {self.name}"


class SuspensionQuerySet(models.QuerySet):
    def active(self, at=None):
        at = at or timezone.now()
        return self.filter(starts_at__lte=at, ends_at__gt=at, lifted_at__isnull=True)


class Suspension(models.Model):
    """A period in which a branch loses something (R33): the archive query after a poor
    assessment (one month), or the use of submissions until what it owes is submitted.
    Lifting one is ending or deleting this row; no permission is rewritten."""

    class Kind(models.TextChoices):
        ARCHIVE = "archive", _("暂停客户档案查询")
        SUBMISSIONS = "submissions", _("暂停上报与审批")

    branch = models.ForeignKey(
        Branch, on_delete=models.CASCADE, related_name="suspensions", verbose_name=_("分子公司")
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    reason = models.CharField(_("原因"), max_length=300)
    starts_at = models.DateTimeField(_("开始"), default=timezone.now)
    ends_at = models.DateTimeField(_("结束"))
    lifted_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SuspensionQuerySet.as_manager()

    class Meta:
        verbose_name = _("暂停")
        verbose_name_plural = _("暂停")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["branch", "kind", "ends_at"])]

    def __str__(self):
        return f"{self.branch} {self.get_kind_display()} → {self.ends_at:%Y-%m-%d}"


# The outbox (R109-R115): its models belong to this app.
from .outbox.models import Delivery, Notice, NoticePreference  # noqa: E402, F401
