"""The S3 store: `s3://BUCKET/PREFIX/` on any S3-compatible object storage (AWS S3, Cloudflare R2, Backblaze B2,
Wasabi, MinIO), through boto3.

Endpoint, region and credentials come from boto3's standard chain (`AWS_ENDPOINT_URL_S3`, `AWS_PROFILE`,
`~/.aws/config`, the environment), never from panelpress.toml. A large file goes up in parts, each retried on its own;
the object appears only when the upload completes, so readers see the old file or the new one whole.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..errors import PublishError
from .remote import OBJECTS, Headers

PART = 8 * 1024 * 1024  # files larger than this go up in parts of this size, each retried on its own
ATTEMPTS = 8  # tries of each request (and each part) on a dropped connection, a throttle or a 5xx
CREDENTIALS_FIX = "set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and, for R2/B2/MinIO, AWS_ENDPOINT_URL_S3; never in panelpress.toml"


class S3Store:
    """A bucket and a prefix in it."""

    kind = OBJECTS
    parallel = 8  # files sent at once (boto3's client is safe across threads)

    def __init__(self, url: str, cache: Path | None = None) -> None:
        parts = urlsplit(url)
        self.url = url
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/") + "/" if parts.path.strip("/") else ""
        if not self.bucket or parts.query or parts.fragment:
            raise PublishError(None, f"deploy destination {url!r} names no bucket", "write it as s3://BUCKET/PREFIX/")
        self.client = boto3.session.Session().client(
            "s3", config=Config(retries={"max_attempts": ATTEMPTS, "mode": "standard"})
        )
        self.transfer = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=4)

    def _key(self, key: str) -> str:
        return self.prefix + key

    def _failed(self, key: str, err: Exception) -> PublishError:
        code = err.response.get("Error", {}).get("Code", "") if isinstance(err, ClientError) else ""
        fix = CREDENTIALS_FIX if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch") else ""
        return PublishError(
            None,
            f"s3://{self.bucket}/{self._key(key)}: {err}",
            fix
            or "check the bucket, the endpoint and your credentials, then deploy again: it resumes where it stopped",
        )

    def read(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise self._failed(key, err) from err
        except BotoCoreError as err:
            raise self._failed(key, err) from err

    def size(self, key: str) -> int | None:
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"])
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise self._failed(key, err) from err
        except BotoCoreError as err:
            raise self._failed(key, err) from err

    def put(self, key: str, source: Path, headers: Headers, progress: Callable[[int], None]) -> None:
        try:
            self.client.upload_file(
                str(source),
                self.bucket,
                self._key(key),
                ExtraArgs=_extra(headers),
                Callback=progress,
                Config=self.transfer,
            )
        except (ClientError, BotoCoreError) as err:
            raise self._failed(key, err) from err
        except Exception as err:  # boto3 wraps a failed transfer in its own error (S3UploadFailedError)
            if type(err).__module__.startswith(("boto3", "s3transfer")):
                raise self._failed(key, err) from err
            raise

    def put_bytes(self, key: str, data: bytes, headers: Headers) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **_extra(headers))
        except (ClientError, BotoCoreError) as err:
            raise self._failed(key, err) from err

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, BotoCoreError) as err:
            raise self._failed(key, err) from err

    def finish(self, message: str) -> None:
        pass

    def close(self) -> None:
        self.client.close()


def _extra(headers: Headers) -> dict[str, str]:
    """The headers as object metadata: what S3 (and a CDN in front of it) serves the object with."""
    extra = {"ContentType": headers.content_type, "CacheControl": headers.cache_control}
    if headers.redirect:
        extra["WebsiteRedirectLocation"] = headers.redirect
    return extra
