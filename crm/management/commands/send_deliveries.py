"""Send every due delivery of the outbox here and now (R110), without a worker: for an operator
whose worker is down, or a one-off check of the mail settings."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Send every due notice delivery now, in this process (the worker normally does this)."

    def handle(self, *args, **options):
        from crm.outbox.services import deliveries_send_due

        reached = deliveries_send_due()
        self.stdout.write(", ".join(f"{state}: {n}" for state, n in sorted(reached.items())) or "nothing due")
