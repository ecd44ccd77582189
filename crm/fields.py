"""Model fields that carry the data conventions of domain.md section 2, so that full_clean,
ModelForms and DRF ModelSerializers all apply them from one declaration.

Both fields deconstruct as Django's own CharField / TextField: the rules they add are
validation only (the column is the same), so they need no migration, and a limit can be
changed without one; historical models in migrations do not validate."""

from __future__ import annotations

from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.functional import cached_property
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from crm.validators import validate_no_bidi_controls, validate_visible_text


class NameField(models.CharField):
    """A name (of a client, contact, project, complaint): refused if it is made only of blank,
    control or invisible characters, or if it holds a bidirectional control character."""

    default_validators = [validate_visible_text, validate_no_bidi_controls]

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


class LimitedTextField(models.TextField):
    """Free text with a maximum length (``limit`` characters, 2000 unless told): enforced by
    full_clean, forms and the API, stated on the page as a ``maxlength`` on the textarea and a
    help text."""

    def __init__(self, *args, limit: int = 2000, **kwargs):
        self.limit = limit
        super().__init__(*args, **kwargs)

    @cached_property
    def validators(self):
        return [*super().validators, MaxLengthValidator(self.limit)]

    def formfield(self, **kwargs):
        # The form field's max_length puts maxlength on the textarea and checks the length.
        kwargs.setdefault("max_length", self.limit)
        field = super().formfield(**kwargs)
        # Lazy: form classes are built at import time, the language is the request's.
        hint = format_lazy(_("最多 {limit} 字。"), limit=self.limit)
        field.help_text = format_lazy("{} {}", field.help_text, hint) if field.help_text else hint
        return field

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.TextField", args, kwargs
