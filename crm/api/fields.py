"""API date fields that accept only the product's range (crm.validators.validate_date_in_range).

The check must come before DRF makes a naive value aware: for 0001-01-01 that step itself
overflowed (a 500), so a validator on the field, which runs after parsing, was too late.
crm.apps installs them as ModelSerializer's fields for the model date fields; a serializer that
declares a date field uses them directly."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from crm.validators import validate_date_in_range


def _check(value):
    try:
        validate_date_in_range(value)
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.messages) from None
    return value


class DateTimeField(serializers.DateTimeField):
    def enforce_timezone(self, value):
        return super().enforce_timezone(_check(value))


class DateField(serializers.DateField):
    def to_internal_value(self, value):
        return _check(super().to_internal_value(value))


class BlankChoices:
    """For a ModelSerializer: a read-only choice field whose model field may be blank keeps
    ``""`` among its documented values. DRF drops ``allow_blank`` from read-only fields, so the
    schema's enum left out the ``""`` the answers carry (a return visit's method before the
    visit, an assessment's rating before it is rated)."""

    def include_extra_kwargs(self, kwargs, extra_kwargs):
        blank = bool(kwargs.get("allow_blank")) and "choices" in kwargs
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if blank and kwargs.get("read_only"):
            kwargs["allow_blank"] = True
        return kwargs
