"""The person's own settings (R112, R113): language and, per kind of notice, how it reaches them."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .kinds import KINDS


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(
        label=_("语言"),
        choices=[("", _("默认(简体中文)")), *settings.LANGUAGES],
        required=False,
        help_text=_("页面、通知、邮件和每日摘要使用的语言。"),
    )

    def __init__(self, *args, **kwargs):
        from crm.models import NoticePreference

        super().__init__(*args, **kwargs)
        for kind, (label, _verbs) in KINDS.items():
            self.fields[f"kind_{kind}"] = forms.ChoiceField(
                label=label, choices=NoticePreference.Mode.choices, initial=NoticePreference.Mode.EMAIL
            )

    def kind_fields(self):
        return [self[f"kind_{kind}"] for kind in KINDS]

    def modes(self) -> dict[str, str]:
        return {kind: self.cleaned_data[f"kind_{kind}"] for kind in KINDS}
