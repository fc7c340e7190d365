"""Files in object storage (S3 API: Ceph RGW in production and in the lab)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError


class StorageUnavailable(RuntimeError):
    """Object storage did not do what was asked (nothing may be assumed stored)."""


class Blobs:
    def __init__(
        self,
        endpoint_url: str,
        bucket: str,
        *,
        region: str = "us-east-1",
        credentials: tuple[str, str] | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {}
        if credentials is not None:
            kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"] = credentials
        self.bucket = bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(
                s3={"addressing_style": "path"},
                signature_version="s3v4",
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
                max_pool_connections=20,
            ),
            **kwargs,
        )

    def put(self, key: str, data: bytes, content_type: str, sm3: str) -> None:
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                Metadata={"sm3": sm3},
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"object storage refused the file: {exc}") from None

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()  # type: ignore[no-any-return]
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"object storage could not return the file: {exc}") from None

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"object storage could not delete the file: {exc}") from None

    def ready(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"bucket {self.bucket!r} is not reachable: {exc}") from None
