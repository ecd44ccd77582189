"""Filters shared by the lists and their API: a row filter that takes any id.

A list's choice of branch, owner or tag offers the rows the reader may pick from, but the API
documents the filter as an integer, and a link may carry an id the reader's choices do not
hold (a grant's client of another branch, an owner who left): such an id filters the reader's
rows by it (usually to none) instead of refusing it as "not one of the choices". The rows are
the reader's already (restrict()), so an id from outside the choices reveals nothing."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import ModelChoiceField

# The range of the ids the database holds (bigint): an integer outside it names no row.
ID_RANGE = range(-(2**63), 2**63)


class Unlisted(int):
    """An id given to a row filter that is not one of its choices."""


class AnyIdChoiceField(ModelChoiceField):
    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            try:
                pk = int(str(value).strip())
            except ValueError:
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from None
            return Unlisted(pk)


class RowFilter(django_filters.ModelChoiceFilter):
    """A ModelChoiceFilter whose id may lie outside its choices (the module's docstring)."""

    field_class = AnyIdChoiceField

    def filter(self, qs, value):
        if isinstance(value, Unlisted):
            pk = int(value)  # a plain int: ``in range`` of an int subclass would count up to it
            if pk not in ID_RANGE:
                return qs.none()
            rows = qs.filter(**{f"{self.field_name}__pk": pk})
            return rows.distinct() if self.distinct else rows
        return super().filter(qs, value)
