from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("组织与系统")

    def ready(self):
        from . import signals  # noqa: F401
        from .outbox import email

        email.register()  # the outbox's built-in channel (R111)
        from .outbox import access, home_panels  # noqa: F401  (the navigation entry, the home panel)

        bound_dates()


# The apps whose models carry the product's data (design.md, layout).
PROJECT_APPS = ("crm", "clients", "complaints", "surveys", "assessments")


def bound_dates():
    """Every date and date-time field of the project's models accepts only the product's range
    (crm.validators.validate_date_in_range): full_clean, so every page's ModelForm, and every
    API ModelSerializer (DRF copies a model field's validators) apply it, today's fields and
    future ones, without a validator on each declaration or a migration (validators are not
    part of the column). The API's date fields check the range before DRF converts the time
    zone (crm/api/fields.py)."""
    from django.apps import apps
    from django.db import models
    from rest_framework import serializers

    from .api import fields as api_fields
    from .validators import validate_date_in_range

    # DRF's map from model fields to API fields, shared by every ModelSerializer.
    serializers.ModelSerializer.serializer_field_mapping[models.DateTimeField] = api_fields.DateTimeField
    serializers.ModelSerializer.serializer_field_mapping[models.DateField] = api_fields.DateField

    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.DateField) and validate_date_in_range not in field.validators:
                # ``validators`` is a cached property: the list read from here on. Not
                # ``_validators``, which deconstruct() reports and makemigrations would see.
                field.__dict__["validators"] = [*field.validators, validate_date_in_range]
