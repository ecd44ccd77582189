from django.core.management.base import BaseCommand

from crm import dbtools


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup` into the database of DATABASE_URL, replacing the "
        "tables it holds (pg_restore --clean --if-exists --no-owner). Asks nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the backup file (backups/crm-<time>.dump)")
        parser.add_argument("--database", help="restore into this database of the same server instead")

    def handle(self, *args, file, database=None, **options):
        name = dbtools.restore(file, name=database)
        self.stdout.write(f"restored {file} into database {name} (existing tables dropped and recreated)")
