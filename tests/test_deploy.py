"""`panelpress deploy` against real servers: an S3 endpoint (moto's server, a subprocess speaking S3 over HTTP on
127.0.0.1, driven by boto3 as with AWS or R2) and a bare git repository as a Pages branch."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from pipeline import config, layout, lock
from pipeline.cli import main
from pipeline.errors import ConfigError
from pipeline.progress import QuietReporter
from pipeline.targets import deploy, remote
from tests.conftest import write_notes, write_show

boto3 = pytest.importorskip("boto3", reason="boto3 is the deploy extra: pip install '.[test]'")
feedparser = pytest.importorskip("feedparser")

BUCKET = "podcast"
PREFIX = "show/"
ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@pytest.fixture(scope="module")
def endpoint() -> str:
    """moto's S3 server on a free port of 127.0.0.1, its address read from what it prints."""
    server = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
    if server is None:
        pytest.skip("moto_server is not installed: pip install '.[test]' (moto[server])")
    process = subprocess.Popen(
        [server, "-H", "127.0.0.1", "-p", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        for line in process.stdout:
            found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", line)
            if found:
                break
        else:
            pytest.fail("moto_server stopped before it said its address")
        # it logs every request: read on, or a full pipe stops it
        threading.Thread(target=process.stdout.read, daemon=True).start()
        yield found.group(1)
    finally:
        process.kill()
        process.wait()


@pytest.fixture
def s3(endpoint, monkeypatch):
    """An empty bucket; the process's environment points boto3 at the server with dummy credentials."""
    for key, value in {**ENV, "AWS_ENDPOINT_URL_S3": endpoint}.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    # Readable by anyone, as a host makes a bucket that serves a site (moto asks for HEAD's action by its own name).
    read = {"Effect": "Allow", "Principal": "*", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    public = {"Version": "2012-10-17", "Statement": [{**read, "Action": ["s3:GetObject", "s3:HeadObject"]}]}
    client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(public))
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _show(
    tmp_path,
    audio_dir,
    site_url: str,
    episodes=("one", "two", "three"),
    deploy_toml: str = "",
    to: str = f"s3://{BUCKET}/{PREFIX}",
    extra_audio: str = "",
    built: bool = True,
) -> Path:
    """A show of tiny episodes published at `site_url`, deployed to `to`; built unless told."""
    show = write_show(tmp_path / "show", extra_show='allow_http = true\nartwork = "cover.jpg"', extra_audio=extra_audio)
    Image.new("RGB", (1400, 1400), (30, 90, 160)).save(show / "cover.jpg")
    toml = show / "panelpress.toml"
    text = toml.read_text().replace('site_url = "https://pod.example.com/show/"', f'site_url = "{site_url}"')
    toml.write_text(text + f'\n[deploy]\nto = "{to}"\n{deploy_toml}\n')
    for day, slug in enumerate(episodes, start=1):
        _episode(show, audio_dir, slug, day)
    if built:
        _build(show)
    return show


def _episode(show: Path, audio_dir: Path, slug: str, day: int) -> None:
    shutil.copy(audio_dir / "stereo.wav", show / "episodes" / f"{slug}.wav")
    write_notes(show, slug, f"title: Episode {slug}\ndate: 2026-01-{day:02d}", body=f"About {slug}.")


def _build(show: Path, *removed: str) -> None:
    withdrawn = [arg for slug in removed for arg in ("--allow-remove", slug)]
    assert main(["build", "--show", str(show), *withdrawn]) == 0


def _deploy(show: Path, capsys, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["deploy", "--show", str(show), *args])
    said = capsys.readouterr()
    return code, said.out + said.err


def _objects(client) -> dict[str, str]:
    return {o["Key"]: o["ETag"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def _consistent(client) -> feedparser.FeedParserDict:
    """The public feed parses, and every enclosure it names is there at its stated length."""
    feed = feedparser.parse(client.get_object(Bucket=BUCKET, Key=PREFIX + "feed.xml")["Body"].read())
    assert not feed.bozo, feed.bozo_exception
    assert feed.entries
    for entry in feed.entries:
        for enclosure in entry.enclosures:
            key = PREFIX + enclosure.href.split(f"/{BUCKET}/{PREFIX}", 1)[1]
            assert key in _objects(client), f"{key}: the feed names it, the bucket has it not"
            head = client.head_object(Bucket=BUCKET, Key=key)
            assert head["ContentLength"] == int(enclosure.length), key
    return feed


def _site_url(endpoint: str) -> str:
    return f"{endpoint}/{BUCKET}/{PREFIX}"  # the bucket as a website serves it, path-style


def test_every_object_has_its_type_and_cache_and_answers_ranges(tmp_path, audio_dir, s3, endpoint, capsys):
    show = _show(tmp_path, audio_dir, _site_url(endpoint))
    code, said = _deploy(show, capsys)  # ends with check --url against the public feed
    assert code == 0, said
    assert "uploaded" in said and "all good" in said and f"the feed: {_site_url(endpoint)}feed.xml" in said
    site = show / "public"
    local = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file() and not p.name.startswith(".")}
    keys = _objects(s3)
    assert {PREFIX + rel for rel in local} <= set(keys)
    for rel in local:
        head = s3.head_object(Bucket=BUCKET, Key=PREFIX + rel)
        expected = deploy.headers(rel)
        assert head["ContentType"] == expected.content_type, rel
        assert head["CacheControl"] == expected.cache_control, rel
    assert s3.head_object(Bucket=BUCKET, Key=PREFIX + "media/one.mp3")["ContentType"] == "audio/mpeg"
    assert s3.head_object(Bucket=BUCKET, Key=PREFIX + "feed.xml")["ContentType"] == "application/rss+xml"
    assert s3.head_object(Bucket=BUCKET, Key=PREFIX + "episodes/one.html")["ContentType"] == "text/html; charset=utf-8"
    assert "max-age=300" in s3.head_object(Bucket=BUCKET, Key=PREFIX + "feed.xml")["CacheControl"]
    ranged = urllib.request.Request(_site_url(endpoint) + "media/one.mp3", headers={"Range": "bytes=0-9"})
    with urllib.request.urlopen(ranged) as answer:
        assert answer.status == 206 and len(answer.read()) == 10
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=PREFIX + ".panelpress-deploy.json")["Body"].read())
    assert set(manifest["files"]) == local and "pending" not in manifest
    _consistent(s3)

    code, said = _deploy(show, capsys, "--no-verify")  # nothing changed: nothing goes up
    assert code == 0, said
    assert "uploaded 0 files (0 bytes), deleted 0" in said


def test_web_players_on_other_sites_may_read_the_bucket_and_a_hosts_own_cors_rules_stay(
    tmp_path, audio_dir, s3, endpoint, capsys
):
    show = _show(tmp_path, audio_dir, _site_url(endpoint), episodes=("one",))
    code, said = _deploy(show, capsys, "--no-verify")
    assert code == 0 and f"s3://{BUCKET} had no CORS rules" in said, said
    # (moto answers every Origin whatever the rules say, so the rule itself is what the test reads)
    (rule,) = s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"]
    assert rule["AllowedOrigins"] == ["*"] and set(rule["AllowedMethods"]) == {"GET", "HEAD"}
    code, said = _deploy(show, capsys, "--no-verify")
    assert code == 0 and "CORS" not in said, said

    own = [{"AllowedOrigins": ["https://mine.example"], "AllowedMethods": ["GET"]}]
    s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": own})
    code, said = _deploy(show, capsys, "--no-verify")
    assert code == 0 and "has CORS rules of its own, kept as they are" in said, said
    assert s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"] == own
    s3.delete_bucket_cors(Bucket=BUCKET)


def test_a_removed_episode_takes_only_its_files_and_foreign_keys_stay(tmp_path, audio_dir, s3, endpoint, capsys):
    show = _show(tmp_path, audio_dir, _site_url(endpoint))
    s3.put_object(Bucket=BUCKET, Key=PREFIX + "notes.txt", Body=b"the host's own")
    s3.put_object(Bucket=BUCKET, Key=PREFIX + "media/old-jingle.mp3", Body=b"not panelpress's")
    assert _deploy(show, capsys, "--no-verify")[0] == 0
    before = _objects(s3)
    (show / "episodes" / "two.wav").unlink()
    (show / "show_notes" / "two.md").unlink()
    _build(show, "two")

    code, said = _deploy(show, capsys, "--dry-run")  # says what it would do, writes nothing
    assert code == 0, said
    assert "delete media/two.mp3" in said and "delete episodes/two.html" in said and "nothing was written" in said
    assert _objects(s3) == before

    code, said = _deploy(show, capsys, "--no-verify")
    assert code == 0, said
    after = _objects(s3)
    gone = set(before) - set(after)
    assert gone and all("/two" in key for key in gone), gone
    assert {PREFIX + "notes.txt", PREFIX + "media/old-jingle.mp3"} <= set(after)
    assert "two" not in json.dumps(_consistent(s3).entries)


def test_more_deletions_than_allowed_stop_before_any_write(tmp_path, audio_dir, s3, endpoint, capsys):
    show = _show(tmp_path, audio_dir, _site_url(endpoint), deploy_toml="max_deletes = 2")
    assert _deploy(show, capsys, "--no-verify")[0] == 0
    before = _objects(s3)
    for slug in ("two", "three"):
        (show / "episodes" / f"{slug}.wav").unlink()
        (show / "show_notes" / f"{slug}.md").unlink()
    _write(show / "show_notes" / "one.md", "About one, edited.")  # a change that would be uploaded
    _build(show, "two", "three")
    code, said = _deploy(show, capsys, "--no-verify")
    assert code == 1, said
    assert "more than [deploy] max_deletes = 2; nothing was written" in said and "--allow-remove" in said
    assert _objects(s3) == before
    code, said = _deploy(show, capsys, "--no-verify", "--allow-remove")
    assert code == 0, said
    assert len(_consistent(s3).entries) == 1


def _write(notes: Path, body: str) -> None:
    text = notes.read_text()
    notes.write_text(text.rsplit("---", 1)[0] + f"---\n\n{body}\n")


def test_a_deploy_killed_at_any_moment_leaves_a_whole_feed_and_the_next_finishes(
    tmp_path, audio_dir, s3, endpoint, capsys
):
    show = _show(tmp_path, audio_dir, _site_url(endpoint))
    assert _deploy(show, capsys, "--no-verify")[0] == 0
    command = [sys.executable, "-m", "pipeline.cli", "deploy", "--show", str(show), "--no-verify", "--allow-remove"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    # Each round changes the site (an episode goes, another comes, notes change), then kills the deploy after
    # `lines` uploads or deletions: the public feed is then the old one or the new one, and names only whole files.
    killed = 0
    for round_, (gone, lines) in enumerate((("one", 1), ("two", 3), ("three", 5), ("new0", 2))):
        new = f"new{round_}"
        for path in (show / "episodes" / f"{gone}.wav", show / "show_notes" / f"{gone}.md"):
            path.unlink()
        _episode(show, audio_dir, new, 10 + round_)
        _write(show / "show_notes" / f"{new}.md", f"Round {round_}.")
        _build(show, gone)
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen = 0
        for line in process.stdout:
            if line.startswith(("uploaded ", "deleted ")) and " files " not in line:
                seen += 1
                if seen == lines:
                    process.send_signal(signal.SIGKILL)
                    killed += 1
                    break
        process.wait()
        process.stdout.close()
        _consistent(s3)
        manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=PREFIX + ".panelpress-deploy.json")["Body"].read())
        assert "pending" in manifest  # the next deploy knows this one was cut short
    assert killed == 4
    code, said = _deploy(show, capsys, "--no-verify", "--allow-remove")
    assert code == 0, said
    feed = _consistent(s3)
    local = feedparser.parse((show / "public" / "feed.xml").read_bytes())
    assert [e.id for e in feed.entries] == [e.id for e in local.entries]
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=PREFIX + ".panelpress-deploy.json")["Body"].read())
    assert "pending" not in manifest
    for key, (_, size) in manifest["files"].items():
        assert s3.head_object(Bucket=BUCKET, Key=PREFIX + key)["ContentLength"] == size


def test_a_moved_show_redirects_its_feed_on_s3(tmp_path, audio_dir, s3, endpoint, capsys):
    show = _show(tmp_path, audio_dir, _site_url(endpoint))
    toml = show / "panelpress.toml"
    toml.write_text(toml.read_text().replace("[show]\n", '[show]\nnew_feed_url = "https://new.example.com/feed.xml"\n'))
    _build(show)
    assert _deploy(show, capsys, "--no-verify")[0] == 0
    head = s3.head_object(Bucket=BUCKET, Key=PREFIX + "feed.xml")
    assert head["WebsiteRedirectLocation"] == "https://new.example.com/feed.xml"


def test_a_deploy_while_a_build_runs_is_refused(tmp_path, audio_dir, s3, endpoint, capsys):
    show = _show(tmp_path, audio_dir, _site_url(endpoint), episodes=("one",))
    with lock.hold(lock.show_lock(config.load(show)), "this show", wait=False):
        code, said = _deploy(show, capsys, "--no-verify")
    assert code == 2 and "this show" in said, said
    assert _objects(s3) == {}


def test_no_destination_and_no_build_are_refused_with_the_fix(tmp_path, s3, capsys):
    show = write_show(tmp_path / "show")
    code, said = _deploy(show, capsys)
    assert code == 2 and "set [deploy] to" in said
    code, said = _deploy(show, capsys, "--to", f"s3://{BUCKET}/{PREFIX}")
    assert code == 1 and "holds no finished build" in said and "panelpress build" in said
    code, said = _deploy(show, capsys, "--to", "ftp://example.com/")
    assert code == 2 and "s3://BUCKET/PREFIX/" in said


# --- a Pages branch ------------------------------------------------------------------------------------------------


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_pages_branch_gets_one_commit_per_deploy_and_none_when_nothing_changed(tmp_path, audio_dir, capsys):
    remote = tmp_path / "pages.git"
    _git("init", "-q", "--bare", str(remote))
    show = _show(tmp_path, audio_dir, "https://pod.example.com/show/", episodes=("one", "two"))
    to = f"git+file://{remote}#gh-pages"
    code, said = _deploy(show, capsys, "--to", to, "--no-verify")
    assert code == 0, said
    assert _git("-C", str(remote), "rev-list", "--count", "gh-pages") == "1"
    tree = _git("-C", str(remote), "ls-tree", "-r", "--name-only", "gh-pages").splitlines()
    assert {"feed.xml", "media/one.mp3", "episodes/two.html", ".panelpress-deploy.json"} <= set(tree)
    assert _git("-C", str(remote), "show", "gh-pages:_headers") == "/show/*\n  Access-Control-Allow-Origin: *"

    code, said = _deploy(show, capsys, "--to", to, "--no-verify")
    assert code == 0 and "uploaded 0 files" in said
    assert _git("-C", str(remote), "rev-list", "--count", "gh-pages") == "1"

    (show / "episodes" / "two.wav").unlink()
    (show / "show_notes" / "two.md").unlink()
    toml = show / "panelpress.toml"
    toml.write_text(toml.read_text().replace("[show]\n", '[show]\nnew_feed_url = "https://new.example.com/feed.xml"\n'))
    _build(show, "two")
    code, said = _deploy(show, capsys, "--to", to, "--no-verify")
    assert code == 0, said
    assert _git("-C", str(remote), "rev-list", "--count", "gh-pages") == "2"
    tree = _git("-C", str(remote), "ls-tree", "-r", "--name-only", "gh-pages").splitlines()
    assert "media/two.mp3" not in tree and "media/one.mp3" in tree
    assert (
        _git("-C", str(remote), "show", "gh-pages:_redirects") == "/show/feed.xml https://new.example.com/feed.xml 301"
    )


# --- the plan, from the manifests ------------------------------------------------------------------------------------

A, B = deploy.Entry("a" * 64, 10), deploy.Entry("b" * 64, 10)


def _unfinished(client, key: str) -> list[str]:
    return [u["UploadId"] for u in client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) if u["Key"] == key]


def test_a_large_file_cut_short_resumes_sending_only_the_parts_not_already_whole(tmp_path, s3):
    from pipeline.targets import s3 as store_s3

    part = store_s3.PART
    audio = tmp_path / "long.mp3"
    audio.write_bytes(os.urandom(2 * part + 12345))  # three parts, the last short
    key = PREFIX + "media/long.mp3"
    # What a deploy killed during the third part leaves: an older upload of the same key given up on, and the newest
    # with part 1 whole and part 2 of other bytes (the file was rebuilt since), begun with headers since changed.
    stale = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    cut = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    data = audio.read_bytes()
    s3.upload_part(Bucket=BUCKET, Key=key, UploadId=cut, PartNumber=1, Body=data[:part])
    s3.upload_part(Bucket=BUCKET, Key=key, UploadId=cut, PartNumber=2, Body=os.urandom(part))
    store = store_s3.S3Store(f"s3://{BUCKET}/{PREFIX}")
    sent: list[int] = []  # the parts that went over the wire, as boto3 sends them
    store.client.meta.events.register(
        "provide-client-params.s3.UploadPart", lambda params, **_: sent.append(params["PartNumber"])
    )
    told: list[int] = []
    store.put("media/long.mp3", audio, deploy.headers("media/long.mp3"), told.append)
    store.close()

    assert sorted(sent) == [2, 3], "part 1 was whole at the store; part 2 held other bytes; part 3 was never sent"
    assert sum(told) == len(data), "the progress bar is told of every byte, those already up included"
    whole = s3.get_object(Bucket=BUCKET, Key=key)
    assert whole["Body"].read() == data and whole["ContentType"] == "audio/mpeg"
    assert whole["CacheControl"] == deploy.headers("media/long.mp3").cache_control
    assert _unfinished(s3, key) == [], f"the resumed upload completed and the stale one ({stale}) was aborted"


def test_a_large_file_with_nothing_left_behind_goes_up_in_parts_whole(tmp_path, s3):
    from pipeline.targets import s3 as store_s3

    audio = tmp_path / "long.mp3"
    audio.write_bytes(os.urandom(store_s3.PART + 1))
    store = store_s3.S3Store(f"s3://{BUCKET}/{PREFIX}")
    sent: list[int] = []
    store.client.meta.events.register(
        "provide-client-params.s3.UploadPart", lambda params, **_: sent.append(params["PartNumber"])
    )
    store.put("media/long.mp3", audio, deploy.headers("media/long.mp3"), lambda n: None)
    store.close()
    assert sorted(sent) == [1, 2]
    assert s3.get_object(Bucket=BUCKET, Key=PREFIX + "media/long.mp3")["Body"].read() == audio.read_bytes()


def test_the_plan_sends_what_changed_media_first_and_the_feed_last():
    site = {"feed.xml": A, "episodes/x.html": A, "media/x.mp3": B, "index.html": B}
    state = deploy.State(files={"feed.xml": B, "episodes/x.html": A, "media/old.mp3": A})
    plan = deploy.plan(site, state, lambda key: pytest.fail("a complete deploy's sizes are not asked"))
    assert plan.upload == ("media/x.mp3", "index.html", "feed.xml")
    assert plan.delete == ("media/old.mp3",) and plan.unchanged == 1 and not plan.resumed


def test_after_a_deploy_cut_short_only_what_it_recorded_whole_and_still_there_is_skipped():
    site = {"media/a.mp3": A, "media/b.mp3": A, "media/c.mp3": A, "feed.xml": A}
    state = deploy.State(
        files={"media/b.mp3": A, "feed.xml": B, "media/gone.mp3": A},
        dirty=frozenset({"media/a.mp3", "media/b.mp3", "media/c.mp3", "feed.xml", "media/half.mp3"}),
        done={"media/a.mp3": A, "media/c.mp3": A},
    )
    sizes = {"media/a.mp3": 10, "media/c.mp3": None}  # c was recorded whole, then removed by hand
    plan = deploy.plan(site, state, sizes.get)
    # b: the complete deploy had it, but the one cut short may have changed it; c is gone; a is whole
    assert plan.upload == ("media/b.mp3", "media/c.mp3", "feed.xml")
    assert plan.delete == ("media/gone.mp3", "media/half.mp3") and plan.resumed


def test_the_analytics_prefix_is_in_front_of_every_enclosure_and_check_still_passes(tmp_path, audio_dir, capsys):
    show = write_show(tmp_path / "show", extra_show='artwork = "cover.jpg"')
    Image.new("RGB", (1400, 1400), (30, 90, 160)).save(show / "cover.jpg")
    with (show / "panelpress.toml").open("a") as toml:
        toml.write('\n[deploy]\nprefix = "https://op3.dev/e,pg={guid}/"\n')
    _episode(show, audio_dir, "one", 1)
    _build(show)
    feed = feedparser.parse((show / "public" / "feed.xml").read_bytes())
    guid = feed.feed["podcast_guid"]
    assert feed.entries[0].enclosures[0].href == f"https://op3.dev/e,pg={guid}/pod.example.com/show/media/one.mp3"
    page = (show / "public" / "episodes" / "one.html").read_text()
    assert "https://pod.example.com/show/media/one.mp3" in page and "op3.dev" not in page  # players fetch directly
    capsys.readouterr()
    assert main(["check", "--show", str(show)]) == 0, capsys.readouterr().out
    ledger = json.loads((show / "panelpress-ledger.json").read_text())
    assert "op3.dev" not in json.dumps(ledger)  # the address subscribers hold is the site's; the prefix may change
    # The next build that changes something reads the published, prefixed feed: the audio has not moved.
    write_notes(show, "one", "title: Episode one, renamed\ndate: 2026-01-01")
    assert main(["build", "--show", str(show)]) == 0, capsys.readouterr()
    assert "Episode one, renamed" in (show / "public" / "feed.xml").read_text()
    toml = show / "panelpress.toml"  # another measurement service: still no move, and the feed names it
    toml.write_text(toml.read_text().replace("https://op3.dev/e,pg={guid}/", "https://dts.podtrac.com/redirect.mp3/"))
    write_notes(show, "one", "title: Episode one\ndate: 2026-01-01")
    assert main(["build", "--show", str(show)]) == 0, capsys.readouterr()
    feed = feedparser.parse((show / "public" / "feed.xml").read_bytes())
    assert (
        feed.entries[0].enclosures[0].href == "https://dts.podtrac.com/redirect.mp3/pod.example.com/show/media/one.mp3"
    )


def test_a_move_is_told_in_each_hosts_own_words():
    assert deploy.redirects("https://pod.example.com/show/", "https://new.example.org/feed.xml") == (
        "/show/feed.xml https://new.example.org/feed.xml 301\n"
    )
    snippet = deploy.server_snippet("https://pod.example.com/", "https://new.example.org/feed.xml")
    assert "location = /feed.xml { return 301 https://new.example.org/feed.xml; }" in snippet
    assert "Redirect permanent /feed.xml https://new.example.org/feed.xml" in snippet
    ssh = SimpleNamespace(kind=remote.FILES)  # what the wording reads of a store: its kind
    moved = deploy.media_moved(ssh, "https://pod.example.com/show/", "https://cdn.example.org/a/")
    assert (
        "location ^~ /show/media/ { rewrite ^/show/media/(.*)$ https://cdn.example.org/a/media/$1 permanent; }" in moved
    )
    assert "RedirectMatch permanent ^/show/media/(.*)$ https://cdn.example.org/a/media/$1" in moved


# --- the media on a destination of their own ([deploy] media_to, media_url) -----------------------------------------

MEDIA = "audio/"  # the media's prefix in the bucket


def _media_show(tmp_path, audio_dir, endpoint: str, to: str, episodes=("one", "two")) -> Path:
    """A show whose media go to `s3://BUCKET/audio/`, served at the moto server's path for it; with Opus editions
    and a transcript (they go with the media)."""
    media = f'media_to = "s3://{BUCKET}/{MEDIA}"\nmedia_url = "{endpoint}/{BUCKET}/{MEDIA}"'
    show = _show(tmp_path, audio_dir, _site_url(endpoint), episodes, media, to, "opus = true", built=False)
    (show / "show_notes" / "one.srt").write_text("1\n00:00:00,500 --> 00:00:01,500\nHello there.\n")
    _build(show)
    return show


def test_media_go_to_their_own_destination_and_every_address_names_it(tmp_path, audio_dir, s3, endpoint, capsys):
    podcastparser = pytest.importorskip("podcastparser")
    media_url = f"{endpoint}/{BUCKET}/{MEDIA}"
    show = _media_show(tmp_path, audio_dir, endpoint, f"s3://{BUCKET}/{PREFIX}")
    code, said = _deploy(show, capsys, "--dry-run")
    assert code == 0 and not _objects(s3), said
    assert "media: upload media/one.mp3" in said and f"leave 0 unchanged at s3://{BUCKET}/{MEDIA}" in said
    assert "upload feed.xml" in said and f"leave 0 unchanged at s3://{BUCKET}/{PREFIX}" in said

    code, said = _deploy(show, capsys)  # ends with check --url: the enclosures fetched from media_url
    assert code == 0, said
    assert f"media deployed to s3://{BUCKET}/{MEDIA}" in said and "all good" in said
    keys = set(_objects(s3))
    media = {k for k in keys if k.startswith(MEDIA)}
    pages = {k for k in keys if k.startswith(PREFIX)}
    assert keys == media | pages
    assert {f"{MEDIA}media/one.mp3", f"{MEDIA}media/one.opus", f"{MEDIA}episodes/one.vtt"} <= media
    assert MEDIA + ".panelpress-deploy.json" in media and PREFIX + ".panelpress-deploy.json" in pages
    assert not any(k.endswith((".mp3", ".opus", ".vtt", ".srt")) for k in pages), sorted(pages)
    assert {PREFIX + "feed.xml", PREFIX + "episodes/one.html"} <= pages
    assert not any(k.endswith(".html") or k.endswith("feed.xml") for k in media)

    raw = s3.get_object(Bucket=BUCKET, Key=PREFIX + "feed.xml")["Body"].read()
    parsed = feedparser.parse(raw)
    hrefs = [e.enclosures[0].href for e in parsed.entries]
    gpodder = podcastparser.parse(_site_url(endpoint) + "feed.xml", io.BytesIO(raw))
    assert hrefs == [e["enclosures"][0]["url"] for e in gpodder["episodes"]]
    assert hrefs == [media_url + "media/two.mp3", media_url + "media/one.mp3"]
    for href in hrefs:
        request = urllib.request.Request(href, headers={"Range": "bytes=0-99"})
        with urllib.request.urlopen(request) as answer:
            assert answer.status == 206 and len(answer.read()) == 100
    xml = raw.decode()
    assert f'url="{media_url}episodes/one.vtt"' in xml  # the transcript went with the media
    assert f'uri="{media_url}media/one.opus"' in xml  # and the Opus edition
    page = s3.get_object(Bucket=BUCKET, Key=PREFIX + "episodes/one.html")["Body"].read().decode()
    assert f'src="{media_url}media/one.mp3"' in page and f'content="{media_url}media/one.mp3"' in page

    # An episode withdrawn: its media go, after the new feed is up; the pages' manifest never listed them.
    (show / "episodes" / "two.wav").unlink()
    (show / "show_notes" / "two.md").unlink()
    _build(show, "two")
    code, said = _deploy(show, capsys, "--no-verify")
    assert code == 0, said
    keys = set(_objects(s3))
    assert f"{MEDIA}media/two.mp3" not in keys and f"{MEDIA}media/one.mp3" in keys
    assert PREFIX + "episodes/two.html" not in keys
    code, said = _deploy(show, capsys, "--no-verify")
    assert code == 0 and "uploaded 0 files" in said and "cut short" not in said


def test_media_deletions_wait_for_the_feed_and_a_deploy_cut_short_before_them_finishes_next(
    tmp_path, audio_dir, s3, endpoint
):
    show = _media_show(tmp_path, audio_dir, endpoint, f"s3://{BUCKET}/{PREFIX}")
    settings = config.load(show)
    site = deploy.local_site(settings.output_dir)
    for leg in deploy.legs(site, settings.deploy.to, settings.deploy.media_to, True, settings.cache_dir):
        deploy.apply(leg.plan, leg.store, settings.output_dir, leg.state, QuietReporter(), keep=leg.media)
        deploy.drop(leg.plan, leg.store)
    (show / "episodes" / "two.wav").unlink()
    (show / "show_notes" / "two.md").unlink()
    _build(show, "two")
    site = deploy.local_site(settings.output_dir)
    media, pages = deploy.legs(site, settings.deploy.to, settings.deploy.media_to, True, settings.cache_dir)
    assert media.media and media.plan.delete == ("media/two.mp3", "media/two.opus")
    deploy.apply(media.plan, media.store, settings.output_dir, media.state, QuietReporter(), keep=True)
    assert f"{MEDIA}media/two.mp3" in _objects(s3)  # the old feed, still public, names it
    # … killed here: the next deploy publishes the feed, then deletes what the old one named
    media, pages = deploy.legs(site, settings.deploy.to, settings.deploy.media_to, True, settings.cache_dir)
    assert media.plan.delete == ("media/two.mp3", "media/two.opus") and not media.plan.upload
    deploy.apply(pages.plan, pages.store, settings.output_dir, pages.state, QuietReporter())
    assert f"{MEDIA}media/two.mp3" in _objects(s3)
    assert deploy.drop(media.plan, media.store) == 2
    assert f"{MEDIA}media/two.mp3" not in _objects(s3)
    _consistent_media(s3, endpoint)


def _consistent_media(client, endpoint: str) -> None:
    feed = feedparser.parse(client.get_object(Bucket=BUCKET, Key=PREFIX + "feed.xml")["Body"].read())
    assert not feed.bozo and feed.entries
    for entry in feed.entries:
        key = MEDIA + entry.enclosures[0].href.split(f"/{BUCKET}/{MEDIA}", 1)[1]
        assert client.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == int(entry.enclosures[0].length)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_pages_branch_gets_no_media_when_they_go_to_object_storage(tmp_path, audio_dir, s3, endpoint, capsys):
    remote = tmp_path / "pages.git"
    _git("init", "-q", "--bare", str(remote))
    show = _media_show(tmp_path, audio_dir, endpoint, f"git+file://{remote}#gh-pages")
    code, said = _deploy(show, capsys, "--no-verify")
    assert code == 0, said
    tree = _git("-C", str(remote), "ls-tree", "-r", "--name-only", "gh-pages").splitlines()
    assert {"feed.xml", "episodes/one.html", ".panelpress-deploy.json"} <= set(tree)
    assert not [name for name in tree if name.endswith((".mp3", ".opus", ".vtt"))], tree
    assert {f"{MEDIA}media/one.mp3", f"{MEDIA}media/two.opus"} <= set(_objects(s3))


def test_a_pages_branch_redirects_the_audio_it_no_longer_holds(tmp_path, audio_dir, s3, endpoint, capsys):
    remote = tmp_path / "pages.git"
    _git("init", "-q", "--bare", str(remote))
    show = _media_show(tmp_path, audio_dir, endpoint, f"git+file://{remote}#gh-pages")
    assert _deploy(show, capsys, "--no-verify")[0] == 0
    redirects = _git("-C", str(remote), "show", "gh-pages:_redirects")
    assert redirects == f"/{BUCKET}/{PREFIX}media/* {endpoint}/{BUCKET}/{MEDIA}media/:splat 301"


def test_audio_moved_to_a_media_destination_is_redirected_in_the_buckets_words(
    tmp_path, audio_dir, s3, endpoint, capsys
):
    show = _show(tmp_path, audio_dir, _site_url(endpoint), episodes=("one", "two"))
    assert _deploy(show, capsys, "--no-verify")[0] == 0
    with (show / "panelpress.toml").open("a") as toml:
        toml.write(f'media_to = "s3://{BUCKET}/{MEDIA}"\nmedia_url = "{endpoint}/{BUCKET}/{MEDIA}"\n')
    assert main(["build", "--show", str(show), "--allow-move", "*"]) == 0
    code, said = _deploy(show, capsys, "--no-verify")
    assert code == 0 and f"the audio moved to {endpoint}/{BUCKET}/{MEDIA}" in said, said
    rules = json.loads(said.split("RoutingRules", 1)[1].splitlines()[1])
    assert rules[0]["Condition"] == {"KeyPrefixEquals": f"{PREFIX}media/"}
    assert rules[0]["Redirect"]["ReplaceKeyPrefixWith"] == f"{BUCKET}/{MEDIA}media/"
    # the rule is one S3 takes as it is
    website = {"IndexDocument": {"Suffix": "index.html"}, "RoutingRules": rules}
    s3.put_bucket_website(Bucket=BUCKET, WebsiteConfiguration=website)
    assert s3.get_bucket_website(Bucket=BUCKET)["RoutingRules"] == rules
    s3.delete_bucket_website(Bucket=BUCKET)
    keys = set(_objects(s3))
    assert PREFIX + "media/one.mp3" not in keys and f"{MEDIA}media/one.mp3" in keys


def test_media_settings_need_each_other(tmp_path):
    show = write_show(tmp_path / "show")
    toml = show / "panelpress.toml"
    base = toml.read_text()
    for deploy_toml, said in (
        ('media_to = "s3://media/pod/"', "media_url is empty"),
        ('media_url = "https://media.example.net/pod/"', "media_to is empty"),
        ('to = "s3://b/p/"\nmedia_to = "s3://b/p/"\nmedia_url = "https://m.example.net/"', "same destination"),
        ('media_to = "s3://m/"\nmedia_url = "http://m.example.net/"', "is http://"),
        ('media_to = "s3://m/"\nmedia_url = "https://pod.example.com/show/"', "is site_url itself"),
    ):
        toml.write_text(base + f"\n[deploy]\n{deploy_toml}\n")
        with pytest.raises(ConfigError, match=re.escape(said)):
            config.load(show)


def test_which_files_are_media_and_their_addresses_come_from_one_rule():
    site, media = "https://blog.example.com/podcast/", "https://media.example.net/pod/"
    assert layout.is_media("media/one.mp3") and layout.is_media("media/one.clean.opus")
    assert layout.is_media("episodes/one.vtt") and layout.is_media("episodes/one.chapters.json")
    assert not layout.is_media("episodes/one.vtt", transcripts=False)
    assert not layout.is_media("episodes/one/slides.vtt")  # a file the notes link to stays with the pages
    assert not layout.is_media("episodes/one.html") and not layout.is_media("episodes/one.chapter-1.jpg")
    assert layout.address(site, "media/one.mp3", media) == media + "media/one.mp3"
    assert layout.address(site, "episodes/one.html", media) == site + "episodes/one.html"
    assert layout.address(site, "media/one.mp3") == site + "media/one.mp3"
    assert layout.href("../", "media/one.mp3", media) == media + "media/one.mp3"
    assert layout.href("../", "episodes/one.vtt", media, transcripts=False) == "../episodes/one.vtt"
    assert layout.site_path(media + "media/one.mp3", site, media) == "media/one.mp3"
    assert layout.site_path("https://elsewhere.example/media/one.mp3", site, media) == ""
    measured = layout.measured("https://op3.dev/e,pg={guid}/", media + "media/one.mp3", "g")
    assert layout.unmeasured(measured, site, media) == media + "media/one.mp3"
    assert deploy.split({"media/a.mp3": A, "episodes/a.vtt": A, "feed.xml": B}, transcripts=False) == (
        {"media/a.mp3": A},
        {"episodes/a.vtt": A, "feed.xml": B},
    )
