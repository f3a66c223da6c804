"""Benchmark: `panelpress deploy` to an S3 endpoint (moto's server on 127.0.0.1), against raw boto3 uploads.

It writes a site folder of N episodes as a build does (each an MP3-sized file of random bytes, a page, the feed, the
build's manifest), then measures with the deploy engine (targets/deploy.py with the S3 store):

- the first deploy's time and throughput, against boto3's `upload_file` of the same files (one after another, and
  eight at once as `aws s3 sync` does);
- a deploy of the unchanged site: the time to decide, and the bytes it sends (0);
- a deploy after one episode's notes changed (its page and the feed): what it sends;
- the same three with two destinations (`[deploy] media_to`: the media to one prefix, the pages and feed to another),
  as the command runs them: the media first, their deletions after the feed.

    .venv/bin/python bench/deploy.py                      # 1000 episodes of 1 MB
    .venv/bin/python bench/deploy.py --episodes 200 --mb 0.5
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3

from pipeline import layout
from pipeline.progress import QuietReporter
from pipeline.records import PlanFile, SitePlan
from pipeline.targets import deploy
from pipeline.targets.folder import Folder

BUCKET = "bench"


def _server() -> tuple[subprocess.Popen, str]:
    server = Path(sys.executable).parent / "moto_server"
    process = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    for line in process.stdout:
        found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", line)
        if found:  # it logs every request: read on, or a full pipe stops it
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process, found.group(1)
    raise SystemExit("moto_server stopped before it said its address")


def _site(folder: Path, sources: Path, episodes: int, size: int, edited: int | None = None) -> None:
    """The site a build of `episodes` episodes makes (the notes of episode `edited` changed), written as a build does."""
    files = {}
    items = []
    for n in range(episodes):
        media = sources / f"ep-{n:05d}.mp3"
        if not media.exists():
            media.write_bytes(os.urandom(size))
        notes = f"<p>Episode {n}{' (edited)' if n == edited else ''}</p>"
        page = f"<!doctype html><title>Episode {n}</title>{notes}".encode()
        files[layout.media(f"ep-{n:05d}", "mp3")] = PlanFile(media, _sha(media.read_bytes()))
        files[layout.page(f"ep-{n:05d}")] = PlanFile(page, hashlib.sha256(page).hexdigest())
        items.append(f"<item><title>Episode {n}</title><description>{notes}</description></item>")
    feed = f"<rss version='2.0'><channel><title>Bench</title>{''.join(items)}</channel></rss>".encode()
    digest = hashlib.sha256(repr(sorted((k, v.sha256) for k, v in files.items())).encode() + feed).hexdigest()
    Folder(folder).apply(SitePlan(files=files, feed_path=layout.FEED_FILE, feed=feed, digest=digest))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _deploy(folder: Path, url: str, media_to: str = "") -> tuple[float, float, list[deploy.Plan]]:
    """One deploy, as `panelpress deploy` runs it: (seconds to decide, seconds in all, each destination's plan)."""
    began = time.perf_counter()
    legs = deploy.legs(deploy.local_site(folder), url, media_to, True, folder.parent / "cache")
    decided = time.perf_counter() - began
    for leg in legs:
        deploy.apply(leg.plan, leg.store, folder, leg.state, QuietReporter(), keep=leg.media)
    for leg in legs:
        if leg.media:  # the feed is up: the media's deletions now
            deploy.drop(leg.plan, leg.store)
        leg.store.close()
    return decided, time.perf_counter() - began, [leg.plan for leg in legs]


def _sent(plans: list[deploy.Plan]) -> tuple[int, int]:
    return sum(len(p.upload) for p in plans), sum(p.bytes for p in plans)


def _raw(client, folder: Path, files: list[Path]) -> None:
    """The same files with boto3's `upload_file`, one after another and eight at once (as `aws s3 sync`)."""
    total = sum(p.stat().st_size for p in files)
    for workers, label in ((1, "one after another"), (8, "8 at once, as aws s3 sync")):
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(
                pool.map(
                    lambda p, w=workers: client.upload_file(
                        str(p), BUCKET, f"raw{w}/{p.relative_to(folder).as_posix()}"
                    ),
                    files,
                )
            )
        raw = time.perf_counter() - began
        print(f"raw boto3 upload_file, {label}: {raw:.1f} s ({total / 1e6 / raw:.1f} MB/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--mb", type=float, default=1.0, help="the size of each episode's audio, in MB")
    args = parser.parse_args()
    size = int(args.mb * 1_000_000)
    process, endpoint = _server()
    os.environ.update(
        AWS_ENDPOINT_URL_S3=endpoint,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )
    try:
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        with tempfile.TemporaryDirectory() as temp:
            sources, folder = Path(temp) / "sources", Path(temp) / "site"
            sources.mkdir()
            _site(folder, sources, args.episodes, size)
            listed = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
            total = sum(p.stat().st_size for p in listed)
            print(
                f"site: {args.episodes} episodes, {len(listed)} files, {total / 1e6:.0f} MB; load {os.getloadavg()[0]:.2f}"
            )

            for media_to, label in (("", "one destination"), (f"s3://{BUCKET}/audio/", "two destinations")):
                to = f"s3://{BUCKET}/{'pages' if media_to else 'site'}/"
                _site(folder, sources, args.episodes, size)
                decided, seconds, plans = _deploy(folder, to, media_to)
                files, sent = _sent(plans)
                print(
                    f"{label}: first deploy: {files} files, {sent / 1e6:.0f} MB in {seconds:.1f} s "
                    f"({sent / 1e6 / seconds:.1f} MB/s; decided in {decided:.2f} s)"
                )
                if not media_to:
                    _raw(client, folder, listed)
                decided, seconds, plans = _deploy(folder, to, media_to)
                files, sent = _sent(plans)
                print(
                    f"{label}: no-change deploy: decided in {decided:.2f} s, {seconds:.2f} s in all, "
                    f"{files} files / {sent} bytes sent; load {os.getloadavg()[0]:.2f}"
                )
                _site(folder, sources, args.episodes, size, edited=args.episodes // 2)
                decided, seconds, plans = _deploy(folder, to, media_to)
                print(
                    f"{label}: one episode's notes edited: sent {[k for p in plans for k in p.upload]} "
                    f"({_sent(plans)[1]} bytes) in {seconds:.2f} s (decided in {decided:.2f} s); "
                    f"load {os.getloadavg()[0]:.2f}"
                )
    finally:
        process.kill()
        process.wait()


if __name__ == "__main__":
    main()
