"""Uploaded files in an S3-compatible object store (issue 29), against moto's S3 server on this
machine: an import uploaded to a web server is kept in the bucket, not on the server's disk, and
the job reads it back through the storage; readiness checks the store and says when it is down."""

from __future__ import annotations

import json
import socket

import boto3
import pytest
from django.test import Client as WebClient
from django.test import override_settings
from django.urls import reverse

from clients.models import Client, ImportJob
from crm.celery import app as celery_app
from tests.clients.test_import import GOOD, confirm, upload, xlsx

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

BUCKET = "crm-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def object_store(tmp_path, settings):
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    s3.create_bucket(Bucket=BUCKET)
    options = {
        "bucket_name": BUCKET,
        "endpoint_url": endpoint,
        "access_key": "test",
        "secret_key": "test",
        "region_name": "us-east-1",
        "addressing_style": "path",
        "default_acl": None,
        "file_overwrite": False,
    }
    s3_storage = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
    settings.MEDIA_ROOT = tmp_path / "media"  # must stay empty
    with override_settings(STORAGES={**settings.STORAGES, "default": s3_storage, "attachments": s3_storage}):
        yield s3, server
    server.stop()


@pytest.fixture
def eager():
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = old


def test_an_import_is_kept_in_the_bucket_and_read_back_from_it(
    org, object_store, eager, django_capture_on_commit_callbacks, tmp_path
):
    s3, _server = object_store
    web = org.web("east_staff")
    job = upload(web, xlsx(GOOD), django_capture_on_commit_callbacks)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert keys == [f"imports/{job}/upload.xlsx"]
    assert not (tmp_path / "media").exists(), "nothing on the web server's disk"
    preview = web.get(reverse("clients:import-preview", kwargs={"job": job}))
    assert "确认导入 2 个客户" in preview.content.decode()
    assert confirm(web, job, django_capture_on_commit_callbacks).status_code == 302
    assert ImportJob.objects.get(pk=job).state == "imported"
    assert Client.objects.count() == 2


def test_readiness_checks_the_object_store(object_store):
    _s3, server = object_store
    body = json.loads(WebClient().get("/health/ready?format=json").content)
    assert body["checks"]["storage"]["status"] == "ok"
    assert body["checks"]["storage"]["note"] == "object-store"
    server.stop()
    response = WebClient().get("/health/ready?format=json")
    assert response.status_code == 503
    assert json.loads(response.content)["checks"]["storage"]["status"] == "fail"
    server.start()
