"""The S3 store: `s3://BUCKET/PREFIX/` on any S3-compatible object storage (AWS S3, Cloudflare R2, Backblaze B2,
Wasabi, MinIO), through boto3.

Endpoint, region and credentials come from boto3's standard chain (`AWS_ENDPOINT_URL_S3`, `AWS_PROFILE`,
`~/.aws/config`, the environment), never from panelpress.toml. A large file goes up in parts, each retried on its own;
the object appears only when the upload completes, so readers see the old file or the new one whole. An upload cut
short stays at the store, unfinished: the next deploy finds it by its key, keeps every part whose MD5 (its ETag) matches
the file's bytes at that place, sends the others and completes it (a bucket lifecycle rule that aborts incomplete
multipart uploads after some days clears what a deploy never came back to).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..errors import PublishError
from .remote import CORS_RULE, OBJECTS, Headers

PART = 8 * 1024 * 1024  # files larger than this go up in parts of this size, each retried on its own
PARTS_AT_ONCE = 4  # parts of one file in flight (each is read into memory whole: 4 × PART at most)
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
            if source.stat().st_size > PART:
                self._put_in_parts(self._key(key), source, headers, progress)
                return
            with source.open("rb") as body:
                self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=body, **_extra(headers))
            progress(source.stat().st_size)
        except (ClientError, BotoCoreError) as err:
            raise self._failed(key, err) from err

    def _put_in_parts(self, key: str, source: Path, headers: Headers, progress: Callable[[int], None]) -> None:
        """A multipart upload that resumes the one a deploy cut short left for this key (its parts checked by MD5)."""
        size = source.stat().st_size
        upload, there = self._unfinished(key)
        if upload is None:
            upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=key, **_extra(headers))["UploadId"]

        def one(number: int) -> dict:
            with source.open("rb") as file:
                file.seek((number - 1) * PART)
                data = file.read(PART)
            digest = hashlib.md5(data, usedforsecurity=False)
            etag = there.get(number)
            if etag != f'"{digest.hexdigest()}"':
                etag = self.client.upload_part(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload,
                    PartNumber=number,
                    Body=data,
                    ContentMD5=base64.b64encode(digest.digest()).decode(),
                )["ETag"]
            progress(len(data))
            return {"ETag": etag, "PartNumber": number}

        with ThreadPoolExecutor(max_workers=PARTS_AT_ONCE) as pool:
            parts = list(pool.map(one, range(1, -(-size // PART) + 1)))
        self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}
        )
        if there:  # a resumed upload carries the headers of the deploy that began it: made right where they differ
            now = self.client.head_object(Bucket=self.bucket, Key=key)
            extra = _extra(headers)
            if any(now.get(name, "") != value for name, value in extra.items()):
                self.client.copy_object(
                    Bucket=self.bucket,
                    Key=key,
                    CopySource={"Bucket": self.bucket, "Key": key},
                    MetadataDirective="REPLACE",
                    **extra,
                )

    def _unfinished(self, key: str) -> tuple[str | None, dict[int, str]]:
        """The newest upload of `key` left unfinished, and the ETag of each of its parts by number; older ones of the
        same key are aborted (nothing but an earlier deploy of this key can have left them)."""
        uploads = [
            u["UploadId"]
            for u in self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=key).get("Uploads", [])
            if u["Key"] == key
        ]
        for stale in uploads[:-1]:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=stale)
        if not uploads:
            return None, {}
        parts: dict[int, str] = {}
        try:
            for page in self.client.get_paginator("list_parts").paginate(
                Bucket=self.bucket, Key=key, UploadId=uploads[-1]
            ):
                parts.update({p["PartNumber"]: p["ETag"] for p in page.get("Parts", [])})
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "NoSuchUpload":  # completed or aborted meanwhile
                return None, {}
            raise
        return uploads[-1], parts

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

    def allow_cross_origin(self) -> str:
        """CORS_RULE on a bucket that has no CORS rules; a bucket with rules of its own is left as it is."""
        rule = json.dumps({"CORSRules": [CORS_RULE]})
        try:
            rules = self.client.get_bucket_cors(Bucket=self.bucket)["CORSRules"]
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "NoSuchCORSConfiguration":
                return f"s3://{self.bucket}: its CORS rules could not be read ({err}); for web players, set: {rule}"
            rules = []
        if any("*" in r.get("AllowedOrigins", ()) and "GET" in r.get("AllowedMethods", ()) for r in rules):
            return ""
        if rules:
            return (
                f"s3://{self.bucket} has CORS rules of its own, kept as they are; web players on other sites cannot "
                f"fetch the chapters and transcripts until they allow GET from any origin, e.g. {rule}"
            )
        try:
            self.client.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": [CORS_RULE]})
        except (ClientError, BotoCoreError) as err:
            return f"s3://{self.bucket}: its CORS rules could not be set ({err}); for web players, set: {rule}"
        return f"s3://{self.bucket} had no CORS rules: set one that lets web players read it (GET from any origin)"

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
