"""The file store contract bound to S3 (moto's server: tests/sqs_support.py), and the switch that
puts files there while every other role stays in the database."""

from __future__ import annotations

import uuid

import pytest

from feedline.config import AppConfig, Settings
from feedline.storage import open_stores
from feedline.storage.s3.files import S3Files, make_s3_client

from .file_store_contract import FileStoreContract, info


@pytest.fixture(scope="module")
def bucket(moto):
    name = f"files-{uuid.uuid4().hex[:10]}"
    make_s3_client(moto.endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def store(moto, bucket, tmp_path):
    settings = Settings(app=AppConfig("k", "s"), sqlite_path=str(tmp_path / "f.db"), files_bucket=bucket,
                        s3_endpoint=moto.endpoint)
    stores = open_stores(settings)
    assert isinstance(stores.files, S3Files)
    yield stores
    stores.close()


@pytest.fixture
def reopen(moto, bucket, tmp_path):
    def _reopen(store):
        store.close()
        return open_stores(Settings(app=AppConfig("k", "s"), sqlite_path=str(tmp_path / "f.db"),
                                    files_bucket=bucket, s3_endpoint=moto.endpoint))
    return _reopen


class TestS3Files(FileStoreContract):
    def test_metadata_survives_non_ascii_uploaders(self, store):
        rec = info(3, uploader="z\u00f6\u00eb@example.org")
        store.files.put_file(rec, b"abc")
        assert store.files.file_info(rec.id) == rec

    def test_files_are_not_in_the_database(self, store):
        rec = info(3)
        store.files.put_file(rec, b"abc")
        from feedline.storage.sqlite.files import SQLiteFiles

        assert SQLiteFiles(store.activities.db).file_info(rec.id) is None
        assert store.files.file_info(rec.id) == rec

    def test_unreachable_s3_is_storage_unavailable(self, bucket):
        from feedline.errors import StorageUnavailable
        from tests.conftest import free_port

        dead = S3Files(bucket, endpoint_url=f"http://127.0.0.1:{free_port()}")
        with pytest.raises(StorageUnavailable):
            dead.file_info("0" * 32)
