"""The production shape on paper (issue 29): the Dockerfile and docker-compose.yml, read as
Docker would read them, since these machines cannot run Docker. A multi-stage image that
installs the pinned dependencies and stops on any failure, runs as an unprivileged user,
collects static files at build time and checks its health; compose runs web, worker and beat
with health checks of their own beside PostgreSQL, Redis and an S3-compatible object store."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"


# -- reading the Dockerfile ------------------------------------------------------------------


def dockerfile_stages(text: str) -> list[dict]:
    """Stages of a Dockerfile: each {"name", "base", "steps": [(INSTRUCTION, arguments)]}, with
    continuation lines joined and comments dropped, as the builder reads them."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    stages: list[dict] = []
    for line in lines:
        instruction, _, args = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            words = args.split()
            name = words[2].lower() if len(words) >= 3 and words[1].upper() == "AS" else str(len(stages))
            stages.append({"name": name, "base": words[0], "steps": []})
            continue
        assert stages, f"{instruction} before any FROM"
        stages[-1]["steps"].append((instruction, args.strip()))
    return stages


@pytest.fixture(scope="module")
def stages():
    return dockerfile_stages(DOCKERFILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def steps(stage, instruction):
    return [args for ins, args in stage["steps"] if ins == instruction]


def test_reader_joins_continued_lines_and_knows_stages():
    """The reader itself: a continued RUN is one step, a comment inside it is dropped, and a
    named stage is known by its name."""
    got = dockerfile_stages("FROM a AS one\nRUN x \\\n  # note\n  && y\nFROM b\nUSER 10\n")
    assert [s["name"] for s in got] == ["one", "1"]
    assert got[0]["steps"] == [("RUN", "x && y")]
    assert got[1]["steps"] == [("USER", "10")]


# -- the Dockerfile ----------------------------------------------------------------------------


def test_no_failure_is_swallowed():
    """`|| true` (or `|| :`, or `; true` after an install) would let a broken image build."""
    for path in (DOCKERFILE, COMPOSE):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\|\|\s*(true|:)\b", text), f"{path.name} swallows a failure"
        assert "2>/dev/null" not in text, f"{path.name} hides an error message"


def test_image_is_multi_stage_and_the_runtime_keeps_only_what_the_build_made(stages):
    assert len(stages) >= 2
    build, runtime = stages[0], stages[-1]
    assert build["name"] != runtime["name"]
    copied_from = [args for args in steps(runtime, "COPY") if args.startswith("--from=")]
    assert any(f"--from={build['name']}" in args for args in copied_from)
    # The runtime installs no Python package of its own: the build stage did.
    assert not any("pip install" in args for args in steps(runtime, "RUN"))


def test_dependencies_install_from_the_pinned_pyproject(stages):
    build = stages[0]
    assert any("pyproject.toml" in args for args in steps(build, "COPY"))
    installs = [args for args in steps(build, "RUN") if "pip install" in args]
    assert any(re.search(r"pip install( --\S+)* \.(\s|$)", args) for args in installs), installs
    # Every dependency in pyproject.toml is pinned to one version.
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    deps = re.findall(r'"([^"]+)"', block)
    assert deps and all("==" in d for d in deps), [d for d in deps if "==" not in d]


def test_runs_as_an_unprivileged_user(stages):
    users = steps(stages[-1], "USER")
    assert users, "the runtime stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0", ""), users[-1]
    # ... and that user is created in the image.
    assert any("useradd" in args and user in args for args in steps(stages[-1], "RUN"))


def test_static_files_are_collected_at_build_time(stages):
    runs = [args for stage in stages for args in steps(stage, "RUN")]
    collect = [args for args in runs if "collectstatic" in args]
    assert collect, "no collectstatic in the build"
    # With the production settings (the manifest storage), not the development ones.
    assert any("DJANGO_DEBUG=False" in args for args in collect)
    assert not any("collectstatic" in args for args in steps(stages[-1], "CMD"))


def test_image_has_a_health_check_and_starts_gunicorn_with_its_config(stages):
    runtime = stages[-1]
    health = steps(runtime, "HEALTHCHECK")
    assert health and "CMD" in health[-1] and "healthprobe" in health[-1]
    cmd = steps(runtime, "CMD")[-1]
    assert "gunicorn" in cmd and "gunicorn.conf.py" in cmd
    assert (ROOT / "gunicorn.conf.py").exists()


# -- docker-compose.yml ------------------------------------------------------------------------


def command_words(service: dict) -> list[str]:
    command = service.get("command", [])
    return command if isinstance(command, list) else shlex.split(command)


def test_compose_has_the_services_of_the_production_shape(compose):
    services = compose["services"]
    assert {"web", "worker", "beat", "db", "redis", "objectstore"} <= set(services)
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert "minio" in services["objectstore"]["image"]
    assert "gunicorn" in command_words(services["web"])
    worker = command_words(services["worker"])
    assert worker[:3] == ["celery", "-A", "crm"] and "worker" in worker and "-B" not in worker
    assert "beat" in command_words(services["beat"])


@pytest.mark.parametrize("name", ["web", "worker", "beat", "db", "redis", "objectstore"])
def test_every_long_running_service_has_a_health_check(compose, name):
    check = compose["services"][name].get("healthcheck")
    assert check and check.get("test"), f"{name} has no health check"
    assert check["test"][0] in ("CMD", "CMD-SHELL")
    for key in ("interval", "timeout", "retries"):
        assert key in check, f"{name}'s health check has no {key}"


def test_app_services_check_their_own_part(compose):
    from django.core.management import get_commands

    services = compose["services"]
    for name in ("web", "worker", "beat"):
        assert services[name]["healthcheck"]["test"][-2:] == ["healthprobe", name]
    assert get_commands()["healthprobe"] == "crm"  # the command the checks run exists


def test_app_services_share_only_the_database_redis_and_the_object_store(compose):
    services = compose["services"]
    for name in ("web", "worker", "beat"):
        service = services[name]
        assert "build" in service
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@db:" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert env["CRM_S3_ENDPOINT_URL"].startswith("http://objectstore:")
        assert env["LOG_FORMAT"] == "json" and env["DJANGO_DEBUG"] == "False"
        # No shared disk between machines: no volume on the app services.
        assert not service.get("volumes"), f"{name} mounts a volume"
        depends = service["depends_on"]
        for needed in ("db", "redis", "objectstore"):
            assert depends[needed]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
