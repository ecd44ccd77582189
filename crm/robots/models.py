"""Group chat robots (issue 28, R116-R120): a webhook of a group chat of a unit of the group."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm import navigation
from crm.access import RestrictedManager, Scope
from crm.models import Branch, HistoryContext, ProjectDepartment, Versioned

from . import platforms
from .kinds import NoticeKind

WEBHOOK_PROBLEMS = {
    "kind": _("请选择机器人类型。"),
    "malformed": _("Webhook 地址格式不正确。"),
    "scheme": _("Webhook 地址须以 https:// 开头(仅本机测试可用 http://localhost)。"),
    "host": _(
        "Webhook 地址不是该平台的地址(企业微信 qyapi.weixin.qq.com,钉钉 oapi.dingtalk.com,飞书 open.feishu.cn)。"
    ),
    "path": _("Webhook 地址的路径不是该平台群机器人的发送地址。"),
    "key": _("Webhook 地址缺少机器人的 key / access_token。"),
}


class ChatRobot(Versioned, models.Model):
    """A group chat robot (群机器人) of the group, a branch or a project department, and the kinds
    of notice it posts to its chat (R117). Administrators only (R116): the model is outside the
    role groups' model permissions, so ``restrict()`` gives it to superusers and to whoever is
    given its model permissions, and to nobody else.

    The webhook address and the signing secret are credentials: the secret is never shown back
    (forms and the API show its first and last characters), the address is shown masked except
    in the administrator's edit form, and the history does not keep the secret."""

    class Kind(models.TextChoices):
        WECOM = platforms.WECOM, _("企业微信群机器人")
        DINGTALK = platforms.DINGTALK, _("钉钉自定义机器人")
        FEISHU = platforms.FEISHU, _("飞书自定义机器人")

    class Unit(models.TextChoices):
        GROUP = "group", _("集团")
        BRANCH = "branch", _("分子公司")
        DEPARTMENT = "department", _("项目经理部")

    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("机器人类型"), max_length=20, choices=Kind.choices)
    unit = models.CharField(_("所属单位级别"), max_length=20, choices=Unit.choices)
    branch = models.ForeignKey(
        Branch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="chat_robots",
        verbose_name=_("分子公司"),
    )
    department = models.ForeignKey(
        ProjectDepartment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="chat_robots",
        verbose_name=_("项目经理部"),
    )
    webhook_url = models.CharField(_("Webhook 地址"), max_length=500)
    secret = models.CharField(_("加签密钥"), max_length=200, blank=True)
    notice_kinds = models.JSONField(_("接收的通知类别"), default=list, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("登记人"),
    )
    last_test_at = models.DateTimeField(_("最近测试时间"), null=True, blank=True)
    last_test_ok = models.BooleanField(_("最近测试成功"), null=True, blank=True)
    last_test_error = models.CharField(_("最近测试错误"), max_length=300, blank=True)

    objects = RestrictedManager()
    history = HistoricalRecords(bases=[HistoryContext], excluded_fields=["secret", "updated_at"])
    scope = Scope(branch=None)  # administrators only (model-level holders)

    class Meta:
        verbose_name = _("群机器人")
        verbose_name_plural = _("群机器人")
        ordering = ["unit", "branch__sort_order", "department__name", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(unit="group", branch__isnull=True, department__isnull=True)
                    | models.Q(unit="branch", branch__isnull=False, department__isnull=True)
                    | models.Q(unit="department", branch__isnull=False, department__isnull=False)
                ),
                name="chatrobot_unit_matches_scope",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["wecom", "dingtalk", "feishu"]), name="chatrobot_kind_known"
            ),
        ]

    def __str__(self):
        return f"{self.scope_label} · {self.name}"

    @property
    def scope_label(self) -> str:
        if self.unit == self.Unit.DEPARTMENT and self.department_id:
            return str(self.department)
        if self.unit == self.Unit.BRANCH and self.branch_id:
            return str(self.branch)
        return str(self.Unit.GROUP.label)

    @property
    def masked_url(self) -> str:
        return platforms.mask_url(self.webhook_url)

    @property
    def masked_secret(self) -> str:
        return platforms.mask_secret(self.secret)

    @property
    def signs(self) -> bool:
        return platforms.SIGNED.get(self.kind, False)

    def notice_kind_labels(self) -> list[str]:
        labels = dict(NoticeKind.choices)
        return [str(labels[k]) for k in self.notice_kinds if k in labels]

    def clean(self):
        """R116: the unit and its branch/department agree; the webhook is the platform's (or this
        machine's, for the demo and the tests); the kinds of notice are known ones; a secret only
        where the platform signs."""
        errors: dict[str, list] = {}
        if self.unit == self.Unit.GROUP:
            self.branch = None
            self.department = None
        elif self.unit == self.Unit.BRANCH:
            self.department = None
            if self.branch_id is None:
                errors["branch"] = [_("请选择分子公司。")]
        elif self.unit == self.Unit.DEPARTMENT:
            if self.department_id is None:
                errors["department"] = [_("请选择项目经理部。")]
            else:
                self.branch_id = self.department.branch_id
        problem = platforms.webhook_problem(
            self.kind, self.webhook_url or "", extra_hosts=getattr(settings, "CRM_ROBOT_EXTRA_HOSTS", ())
        )
        if problem and self.kind:
            errors["webhook_url"] = [WEBHOOK_PROBLEMS[problem]]
        kinds = self.notice_kinds if isinstance(self.notice_kinds, list) else None
        if kinds is None or any(k not in NoticeKind.values for k in kinds):
            errors["notice_kinds"] = [_("通知类别无效。")]
        else:
            self.notice_kinds = [k for k in NoticeKind.values if k in kinds]  # known order, once each
        if self.secret and not platforms.SIGNED.get(self.kind, False):
            errors["secret"] = [_("企业微信群机器人没有加签密钥,请留空。")]
        if errors:
            raise ValidationError(errors)


@navigation.register("chat_robots")
def may_manage_robots(user) -> bool:
    """The navigation shows the robots' pages to whoever they answer (administrators)."""
    from crm.access import can

    return can(user, "view", ChatRobot)
