"""The containers' health checks (Dockerfile, docker-compose.yml): exit 0 when this machine's
part is healthy, 1 otherwise. web: /health/live answers on the local port; worker: this
machine's worker answers a ping over the broker; beat: beat sent a job lately (crm/health.py)."""

from django.core.management.base import BaseCommand, CommandError

from crm import health


class Command(BaseCommand):
    help = "Exit 0 when this machine's web server, worker or beat is healthy (container health checks)."

    def add_arguments(self, parser):
        parser.add_argument("part", choices=["web", "worker", "beat"])
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, part, port, **options):
        healthy = {
            "web": lambda: health.probe_web(port),
            "worker": health.probe_worker,
            "beat": health.probe_beat,
        }[part]()
        if not healthy:
            raise CommandError(f"{part} is not healthy")
        self.stdout.write(f"{part} ok")
