"""``python manage.py seed_demo``: the demo group of design.md. Idempotent: running it again
changes nothing that is already there. Each app adds its data through ``<app>.seed.seed()``."""

import importlib
import os

from django.core.management.base import BaseCommand
from django.db import transaction

from crm.outbox.services import held
from crm.seed import seed_organisation

APPS_WITH_DATA = ("clients", "complaints", "surveys", "assessments", "crm.robots", "crm.outbox")


class Command(BaseCommand):
    help = "Create the demo group, branches, users and a year of believable data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD", "demo-pass-2026"))
        parser.add_argument("--org-only", action="store_true", help="only branches, departments and users")

    def handle(self, *args, password, org_only, **options):
        with transaction.atomic():
            org = seed_organisation(password=password)
        self.stdout.write(f"organisation: {len(org.branches)} branches, {len(org.users)} users")
        if org_only:
            return
        # The notices of the demo's past are not queued one task each (the sweep finds any left).
        with held():
            for app in APPS_WITH_DATA:
                try:
                    module = importlib.import_module(f"{app}.seed")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{app}.seed":
                        raise
                    continue
                with transaction.atomic():
                    summary = module.seed(org)
                self.stdout.write(f"{app}: {summary}")
        self.stdout.write(self.style.SUCCESS("demo data ready"))
