"""The tools of the tests that look at the site as listeners get it: `panelpress serve` as a real process, Debian's
Chromium driven by Playwright, axe-core and the Nu HTML Checker. A missing browser or Java skips those tests with
how to install it; it never fails them."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"  # git-ignored: for a person to look at
CHROMIUM = os.environ.get("PANELPRESS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NO_CHROMIUM = f"no Chromium at {CHROMIUM}: install Debian's with `apt-get install chromium` (or set PANELPRESS_CHROMIUM) to run the browser tests"
# The Nu HTML Checker: `make test` installs the vnu-jar package from npm into .venv/npm when npm is there.
VNU_JAR = Path(
    os.environ.get(
        "PANELPRESS_VNU_JAR", ROOT / ".venv" / "npm" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
    )
)
WAIT = 120.0  # seconds a server may take to build and answer on a busy machine (a limit on waiting, not a measure)


def chromium_or_skip() -> str:
    """Chromium's path, or a skip that says how to install it."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(NO_CHROMIUM)
    return CHROMIUM


def vnu_or_skip() -> list[str]:
    """The command that runs the Nu HTML Checker, or a skip that says how to install it."""
    java = shutil.which("java")
    if java is None:
        pytest.skip("no Java for the Nu HTML Checker: install it with `apt-get install default-jre-headless`")
    if not VNU_JAR.is_file():
        pytest.skip(
            f"no vnu.jar at {VNU_JAR}: install it with `npm install --prefix .venv/npm vnu-jar` (or set PANELPRESS_VNU_JAR)"
        )
    return [java, "-Xss4m", "-jar", str(VNU_JAR)]  # the checker's schema needs a deeper stack than Java's default


def axe_source() -> str:
    """axe-core's script, as shipped inside a PyPI package (nothing is fetched at test time)."""
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


class Served:
    """`panelpress serve` on a free port, as a host runs it; stopped with Ctrl-C (SIGINT)."""

    def __init__(self, show: Path) -> None:
        self.show = show
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "serve", "--show", str(show), "--port", "0"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self.wait_for("Serving the preview at ").split(" at ", 1)[1].split(" ", 1)[0]

    def _read(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for(self, text: str) -> str:
        """The next line of the server's output holding `text` (it fails the test if the server stops first)."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if text in line:
                return line.strip()
        raise AssertionError(f"`panelpress serve` never said {text!r}:\n{''.join(self.output)}")

    def stop(self) -> int:
        """Ctrl-C, as a host stops it; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode
