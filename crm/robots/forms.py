"""The administrator's form for a group chat robot (R116). The signing secret is never rendered
back: leaving it blank keeps the stored one."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.models import Branch, ProjectDepartment

from .kinds import NoticeKind
from .models import ChatRobot


def _style(form: forms.BaseForm, small: bool = False) -> None:
    """Bootstrap classes on every widget."""
    size = " form-control-sm" if small else ""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple):
            continue
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select" + (" form-select-sm" if small else ""))
        else:
            widget.attrs.setdefault("class", "form-control" + size)


class RobotForm(forms.ModelForm):
    secret = forms.CharField(
        label=_("加签密钥"),
        required=False,
        max_length=200,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("钉钉“加签”、飞书“签名校验”的密钥;企业微信群机器人没有密钥。留空则保留已保存的密钥。"),
    )
    clear_secret = forms.BooleanField(label=_("清除已保存的密钥"), required=False)
    notice_kinds = forms.MultipleChoiceField(
        label=_("接收的通知类别"),
        choices=NoticeKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ChatRobot
        fields = ["name", "kind", "unit", "branch", "department", "webhook_url", "notice_kinds", "is_active"]
        help_texts = {
            "webhook_url": _(
                "在群设置中添加机器人后复制的地址:企业微信 https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…,"
                "钉钉 https://oapi.dingtalk.com/robot/send?access_token=…,飞书 https://open.feishu.cn/open-apis/bot/v2/hook/…"
            ),
        }
        widgets = {"webhook_url": forms.URLInput(attrs={"autocomplete": "off"})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Branch.objects.restrict(user, "view").filter(is_active=True)
        self.fields["department"].queryset = (
            ProjectDepartment.objects.restrict(user, "view").filter(is_active=True).select_related("branch")
        )
        self.fields["webhook_url"].widget.input_type = "text"  # http://127.0.0.1 for the demo too
        if self.instance.pk and self.instance.secret:
            self.fields["secret"].help_text = _("已保存的密钥:%(masked)s。留空则保留。") % {
                "masked": self.instance.masked_secret
            }
        _style(self)


class RobotFilter(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    unit = forms.ChoiceField(
        label=_("所属单位级别"), required=False, choices=[("", _("全部"))] + ChatRobot.Unit.choices
    )
    kind = forms.ChoiceField(
        label=_("机器人类型"), required=False, choices=[("", _("全部"))] + ChatRobot.Kind.choices
    )
    active = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), ("1", _("启用")), ("0", _("已停用"))]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self, small=True)
