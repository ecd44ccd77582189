"""The benchmark's wrk driver (bench/load.lua and run.run_wrk) against a live server: it cycles
through the paths, reads wrk's figures, and counts every answer that is not 2xx as an error
(wrk alone counts only >= 400, so a redirect to the login page would pass unnoticed). `.ci/run`
installs wrk; without it `make bench` falls back to Python threads."""

import shutil

import pytest
from django.test import Client as WebClient

from bench import run

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed"),
]


def test_wrk_driver_measures_and_counts_non_2xx(org, live_server):
    web = WebClient()
    web.force_login(org["east_staff"])
    cookie = {"Cookie": f"sessionid={web.cookies['sessionid'].value}"}
    port = int(live_server.url.rsplit(":", 1)[1])

    signed_in = run.run_wrk(port, cookie, ["/clients/", "/clients/?grade=A"], concurrency=2, seconds=1)
    assert signed_in.count > 0 and signed_in.errors == 0
    assert 0 < signed_in.p50 <= signed_in.p95 and signed_in.rps > 0

    anonymous = run.run_wrk(port, {}, ["/clients/"], concurrency=1, seconds=1)
    assert anonymous.count > 0 and anonymous.errors == anonymous.count  # 302 to the login page
