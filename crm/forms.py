"""What every edit page's form shares: optimistic locking of ``Versioned`` rows (crm.models) and
unique violations shown on their field (crm.concurrency)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from .concurrency import unique_violation
from .models import Versioned

BIGINT_MAX = 2**63 - 1


def posted_object(queryset: models.QuerySet, value, *, field: str):
    """The row that an id posted by a page's form names (``<select name="client">``).

    A value that is not an id ("abc", "", "1e9", larger than the column) is the form's error: a
    ValidationError on ``field`` that the page shows, never a 500 from the database. An id
    outside ``queryset`` (the user's scope, restricted by the caller) answers 404, as every
    out-of-scope object does."""
    try:
        pk = forms.IntegerField(min_value=1, max_value=BIGINT_MAX).clean(value)
    except ValidationError:
        raise ValidationError({field: [_("所选项无效,请从列表中选择。")]}, code="invalid_choice") from None
    return get_object_or_404(queryset, pk=pk)


def apply_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's refusal on the page's form: each field's errors on its field, the rest
    (and errors of fields the form does not show) above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# Bookkeeping columns: never listed as "changed since you opened the page".
_NOT_SHOWN = {"id", "version", "created_at", "updated_at"}


def _display(field: models.Field, value) -> str:
    if value in (None, "") or (isinstance(value, list | tuple | set) and not value):
        return _("(空)")
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(field, models.ForeignKey):
        obj = field.related_model._base_manager.filter(pk=value).first()
        return str(obj) if obj is not None else str(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, dt.datetime):
        return (
            timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else str(value)
        )
    if isinstance(value, models.QuerySet | list | tuple | set):
        return "、".join(str(v) for v in value)
    return str(value)


class VersionedFormMixin:
    """For a ModelForm of a ``Versioned`` model: an existing row's form carries its version in a
    hidden field. A save based on an older version (someone saved the row, or a workflow step
    moved it, since the page was opened; or the page had no version at all) is refused by
    ``clean()``: what the user typed stays, the error at the top lists what changed since then
    (label: what they entered vs what is stored now), and the hidden field now carries the
    current version, so submitting again after reviewing saves. The model's conditional UPDATE
    (Versioned) refuses what slips between this check and the save, as a StaleVersion."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stale_changes: list[str] = []
        if self._versioned():
            self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput, required=False)
            self.initial["version"] = self.instance.version

    def _versioned(self) -> bool:
        return isinstance(self.instance, Versioned) and self.instance.pk is not None

    def clean(self):
        cleaned = super().clean()
        if self._versioned():
            based_on = cleaned.get("version")
            if based_on != self.instance.version:
                self._refuse_stale(based_on)
        return cleaned

    def _refuse_stale(self, based_on: int | None) -> None:
        self.stale_changes = self.changes_since(based_on)
        errors = [_("此记录在您打开页面后已被他人修改(或已办理了流程步骤),本次未保存。")]
        if self.stale_changes:
            errors.append(_("以下内容已变化,请核对(您填写的 / 当前保存的):"))
            errors += self.stale_changes
        errors.append(_("您填写的内容仍保留在下方;核对后再次提交即以您填写的内容保存。"))
        self.add_error(None, errors)
        data = self.data.copy()
        data[self.add_prefix("version")] = str(self.instance.version)
        self.data = data

    def _then(self, based_on: int | None):
        """The row as it was at ``based_on`` (its history record), or None when unknown."""
        history = getattr(type(self.instance), "history", None)
        if history is None or based_on is None:
            return None
        return self.instance.history.filter(version=based_on).order_by("-history_date", "-history_id").first()

    def changes_since(self, based_on: int | None) -> list[str]:
        """Lines "label: 您填写「theirs」 / 当前「current」" for the fields of this form that changed
        since ``based_on``, then "label: 现为「current」" for other fields that changed. Without
        the history record of ``based_on``, every form field whose entry differs from what is
        stored is listed."""
        current = self.instance.__class__._base_manager.get(pk=self.instance.pk)
        then = self._then(based_on)
        lines, others = [], []
        for field in current._meta.concrete_fields:
            if field.name in _NOT_SHOWN or field.primary_key:
                continue
            if str(field.verbose_name) == field.name.replace("_", " "):
                continue  # a derived column without a label of its own (e.g. name_normalized)
            now_value = getattr(current, field.attname)
            in_form = field.name in self.fields and field.name in self.cleaned_data
            if then is not None:
                changed = getattr(then, field.attname, now_value) != now_value
            elif in_form:
                entered = self.cleaned_data[field.name]
                entered = entered.pk if isinstance(entered, models.Model) else entered
                changed = entered != now_value
            else:
                changed = False
            if not changed:
                continue
            label = str(field.verbose_name)
            if in_form:
                lines.append(
                    _("%(label)s:您填写「%(theirs)s」 / 当前「%(current)s」")
                    % {
                        "label": label,
                        "theirs": _display(field, self.cleaned_data[field.name]),
                        "current": _display(field, now_value),
                    }
                )
            elif field.editable or then is not None:
                others.append(
                    _("%(label)s:现为「%(current)s」")
                    % {"label": label, "current": _display(field, now_value)}
                )
        return lines + others


def add_integrity_error(form: forms.BaseForm, error: IntegrityError, model=None) -> None:
    """Put a unique violation the database reported (a parallel save won) on the form's field,
    with the field's message; anything else is re-raised."""
    model = model or form._meta.model
    mapped = unique_violation(model, error)
    if mapped is None:
        raise error
    for field, messages in mapped.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


class ClientProjectSelect(forms.Select):
    """A project choice whose options carry their client's id (``data-client``), so that
    static/js/client-projects.js offers only the projects of the client chosen beside it (the
    select names that field in ``data-projects-of``)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-client"] = str(instance.client_id)
        return option


def limit_projects_to_client(form: forms.BaseForm, projects, *, client="client", project="project") -> None:
    """The project choices of ``form`` follow its client: with the client known (posted, or
    given for a new form, or fixed on an edited record) only that client's projects are valid,
    so a project of another client is refused by the field itself; the page narrows the list
    as the user picks a client (ClientProjectSelect)."""
    field = form.fields[client]
    if form.is_bound and not field.disabled:
        chosen = form.data.get(form.add_prefix(client))
    else:
        chosen = form.get_initial_for_field(field, client)
    chosen = str(getattr(chosen, "pk", chosen) or "")
    if chosen.isdigit():
        projects = projects.filter(client_id=chosen)
    target = form.fields[project]
    target.queryset = projects
    target.widget = ClientProjectSelect(
        attrs={**target.widget.attrs, "data-projects-of": form[client].auto_id}, choices=target.choices
    )
