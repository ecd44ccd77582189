"""``python manage.py robot_receiver --port 8765``: a local stand-in for the WeCom, DingTalk and
Feishu webhooks, for the demo. It prints every message it receives and answers as the platform
would, after checking the path, the signature (with the secrets of the robots registered in the
database that point at it) and the message's format. The demo's robots (``seed_demo``) point
here, so "send a test message" and the notices of the demo show up in this terminal."""

from __future__ import annotations

import json
import urllib.parse

from django.core.management.base import BaseCommand
from django.db import connection

from crm.robots.models import ChatRobot
from crm.robots.receiver import Platforms, Receiver, key_of


class Command(BaseCommand):
    help = "Play the chat platforms' webhooks on this machine and print what the robots send."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)

    def _secrets(self, port: int) -> dict[str, str]:
        """The signing secrets of the robots that point at this receiver, by their key, read
        afresh for every message (a robot registered or edited meanwhile is known at once)."""
        found = {}
        try:
            for robot in ChatRobot.objects.all():
                parts = urllib.parse.urlsplit(robot.webhook_url)
                if parts.hostname in ("127.0.0.1", "localhost", "::1") and parts.port == port:
                    found[key_of(robot.webhook_url)] = robot.secret
        finally:
            connection.close()  # each request is served by a thread of its own
        return found

    def handle(self, *args, host, port, **options):
        state = Platforms(lookup=lambda key: self._secrets(port).get(key, ""))

        def echo(entry):
            style = self.style.SUCCESS if entry.verdict == "ok" else self.style.ERROR
            self.stdout.write(
                style(f"[{entry.kind} {entry.key}] {entry.verdict} -> {json.dumps(entry.answer)}")
            )
            self.stdout.write(json.dumps(entry.body, ensure_ascii=False, indent=2))

        receiver = Receiver(host=host, port=port, state=state, echo=echo)
        self.stdout.write(
            f"robot receiver on http://{host}:{receiver.port}/ "
            f"({len(self._secrets(port))} robots point here); Ctrl-C to stop"
        )
        try:
            receiver.server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            receiver.server.server_close()
