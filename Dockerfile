# The production image (docker-compose.yml runs it as web, worker and beat).
#
# Two stages: "build" installs the pinned dependencies of pyproject.toml into a virtualenv and
# collects the static files; "runtime" copies only the virtualenv and the project, and runs as
# an unprivileged user. Every RUN fails the build when its command fails (no error is swallowed).

FROM python:3.11-slim AS build
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
WORKDIR /app
RUN python -m venv /opt/venv
# The dependencies first (pinned in pyproject.toml), so that a code change does not reinstall them.
COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install .
COPY . .
# Static files are collected (and compressed, with their hashed names) once, here, with the
# production settings; the key below exists only for this command and is never used to sign.
RUN DJANGO_DEBUG=False \
    DJANGO_SECRET_KEY=collectstatic-at-build-time-only-not-a-secret-0123456789-abcdefghij \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    python manage.py collectstatic --noinput \
    && test -f /app/staticfiles/staticfiles.json

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_DEBUG=False \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    DJANGO_MEDIA_ROOT=/app/media \
    LOG_FORMAT=json \
    PROMETHEUS_MULTIPROC_DIR=/app/var/prometheus
# pg_dump and pg_restore for `manage.py backup` and `manage.py restore`.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 crm \
    && useradd --system --uid 10001 --gid crm --home-dir /app --shell /usr/sbin/nologin crm
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=crm:crm /app /app
RUN mkdir -p /app/media /app/var/prometheus /app/backups && chown -R crm:crm /app/media /app/var /app/backups
USER crm:crm
EXPOSE 8000
# The web server's liveness (crm/health.py); the worker and beat have their own checks in
# docker-compose.yml.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "manage.py", "healthprobe", "web"]
CMD ["gunicorn", "crm.wsgi:application", "--config", "gunicorn.conf.py"]
