"""The cached-artefact protocol, written once (artefacts.py): a file carries its key's name only when whole, its
record last; a job that fails, or is killed at any point, leaves nothing a later build trusts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipeline import artefacts

ROOT = Path(__file__).resolve().parent.parent


def test_a_made_artefact_is_kept_with_its_record_and_found_again(tmp_path):
    shelf = artefacts.Shelf(tmp_path / "kind", ".mp3")
    assert shelf.get("k1") is None
    with shelf.make("k1") as job:
        job.partial.write_bytes(b"audio")
        (job.work / "curve").write_bytes(b"curve")
        job.companions.append((job.work / "curve", "k1.curve.f32"))
        job.record = {"duration": 3.0}
    assert shelf.file("k1").read_bytes() == b"audio" and (tmp_path / "kind" / "k1.curve.f32").read_bytes() == b"curve"
    assert shelf.get("k1") == {"duration": 3.0}
    assert sorted(p.name for p in (tmp_path / "kind").iterdir()) == ["k1.curve.f32", "k1.json", "k1.mp3"], (
        "no work folder left"
    )


def test_a_failed_job_leaves_nothing(tmp_path):
    shelf = artefacts.Shelf(tmp_path / "kind", ".mp3")
    with pytest.raises(RuntimeError), shelf.make("k2") as job:
        job.partial.write_bytes(b"half")
        raise RuntimeError("ffmpeg failed")
    assert shelf.get("k2") is None and list((tmp_path / "kind").iterdir()) == []
    with pytest.raises(ValueError, match="without its record"), shelf.make("k3") as job:
        job.partial.write_bytes(b"audio")
    assert shelf.get("k3") is None


def test_a_file_without_its_record_or_with_a_damaged_one_is_made_again(tmp_path):
    shelf = artefacts.Shelf(tmp_path / "kind", ".mp3")
    shelf.folder.mkdir()
    shelf.file("k4").write_bytes(b"audio")
    assert shelf.get("k4") is None, "a file whose record was never written is not trusted"
    shelf.record("k4").write_text('{"duration": 3.')
    assert shelf.get("k4") is None, "nor one whose record was cut short"
    shelf.forget("k4")
    assert not shelf.record("k4").exists()


def test_a_shelf_without_records_trusts_a_file_once_it_has_its_name(tmp_path):
    shelf = artefacts.Shelf(tmp_path / "tagged", ".mp3", records=False)
    with shelf.make("k5") as job:
        job.partial.write_bytes(b"tagged")
    assert shelf.get("k5") == {} and not shelf.record("k5").exists()


@pytest.mark.parametrize("moment", ["writing", "renamed"])
def test_a_job_killed_at_any_moment_leaves_nothing_trusted(tmp_path, moment):
    # A child makes an artefact and stops itself (SIGKILL) while writing the file, or after renaming the file but
    # before the record: what it leaves is never a hit.
    code = textwrap.dedent(f"""
        import os, signal, sys
        from pathlib import Path
        from pipeline import artefacts
        shelf = artefacts.Shelf(Path(sys.argv[1]), ".mp3")
        real = os.replace
        def replace(src, dst):
            real(src, dst)
            if {moment!r} == "renamed" and str(dst).endswith(".mp3"):
                os.kill(os.getpid(), signal.SIGKILL)
        os.replace = replace
        with shelf.make("k6") as job:
            job.partial.write_bytes(b"half")
            if {moment!r} == "writing":
                os.kill(os.getpid(), signal.SIGKILL)
            job.record = {{"duration": 1.0}}
    """)
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "kind")], cwd=ROOT)
    assert done.returncode == -signal.SIGKILL
    shelf = artefacts.Shelf(tmp_path / "kind", ".mp3")
    assert shelf.get("k6") is None
    with shelf.make("k6") as job:  # made again, over whatever was left
        job.partial.write_bytes(b"whole")
        job.record = {"duration": 1.0}
    assert shelf.get("k6") == {"duration": 1.0} and shelf.file("k6").read_bytes() == b"whole"
    assert os.listdir(tmp_path / "kind")
