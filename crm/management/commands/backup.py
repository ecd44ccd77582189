from django.core.management.base import BaseCommand

from crm import dbtools


class Command(BaseCommand):
    help = (
        "Back up the database of DATABASE_URL: pg_dump custom format into "
        "backups/crm-YYYYmmdd-HHMM.dump (SQLite: an online copy, backups/crm-YYYYmmdd-HHMM.sqlite3)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", help="where to write the backup (default: backups/crm-<time>.dump)")

    def handle(self, *args, output=None, **options):
        db = dbtools.database()
        path = dbtools.backup(output, db=db)
        size = path.stat().st_size
        self.stdout.write(f"backed up database {db['NAME']} to {path} ({size} bytes)")
