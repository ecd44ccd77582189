"""Settings come from the environment; production refuses to start without a secret."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def run_check(env_extra, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_defaults_are_chinese_and_shanghai():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai" and settings.CELERY_TIMEZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
    assert ("en", "English") in settings.LANGUAGES


def test_production_without_secret_key_refuses_to_start():
    result = run_check({"DJANGO_DEBUG": "False"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_values_pass_the_deploy_check():
    result = run_check(
        {
            "DJANGO_DEBUG": "False",
            "DJANGO_SECRET_KEY": "k3y-" + "".join(chr(ord("a") + i % 26) + str(i % 10) for i in range(40)),
            "DJANGO_ALLOWED_HOSTS": "crm.example.com",
        },
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_static_files_collect(tmp_path):
    """whitenoise's manifest storage fails on a missing file a vendored asset references."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        {
            "DJANGO_DEBUG": "False",
            "DJANGO_SECRET_KEY": "k3y-" + "".join(chr(ord("a") + i % 26) + str(i % 10) for i in range(40)),
            "DJANGO_STATIC_ROOT": str(tmp_path),
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "staticfiles.json").exists()
    assert list(tmp_path.glob("vendor/bootstrap/bootstrap.min.*.css"))
