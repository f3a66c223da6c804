"""Benchmark: what each page of the example show weighs, and how soon Chromium paints it.

Copies the example show of this repository (its explicit panel, with a clean edition) into a temporary folder, builds
it there with `panelpress build --out` (nothing is written into the repository), serves the site folder on
127.0.0.1, and opens every page in Debian's Chromium (Playwright), each time in a fresh profile (nothing cached):

- the page's weight: the bytes of every file the browser fetched for it, its audio aside (the player asks only for
  the audio's first bytes, for its length; the audio is listed apart), and the same files gzip-compressed, as most
  hosts send them;
- its first contentful paint (the Paint Timing API), the median of `--runs` loads, on a desktop and a phone viewport.

    .venv/bin/python bench/pages.py             # 5 loads of each page per viewport
    .venv/bin/python bench/pages.py --runs 11
"""

from __future__ import annotations

import argparse
import functools
import gzip
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.sites import demo_show

VIEWPORTS = {"desktop 1280×900": (1280, 900), "phone 390×844": (390, 844)}
AUDIO = (".mp3", ".m4a", ".opus", ".ogg")


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # one line per request would drown the figures
        pass


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A browser that closes a page while its audio still comes cuts the transfer: not an error here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(folder: Path) -> Path:
    """The example show, built into `folder`/site; prints the build's wall and CPU time."""
    show = demo_show(folder / "show")
    site = folder / "site"
    started, cpu = time.monotonic(), _cpu_of_children()
    subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "build", "--show", str(show), "--out", str(site)],
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
    )
    print(f"build of the example show: {time.monotonic() - started:.1f} s wall, {_cpu_of_children() - cpu:.1f} s CPU")
    return site


def measure(browser, base: str, rel: str, viewport: tuple[int, int], runs: int, site: Path) -> dict:
    """The files a fresh browser fetched for one page (their bytes as published and gzipped) and its paints."""
    paints, fetched = [], {}
    for _ in range(runs):
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        page = context.new_page()
        asked: list[str] = []
        page.on("requestfinished", lambda request, asked=asked: asked.append(request.url))
        page.goto(base + rel, wait_until="load")
        paints.append(
            page.evaluate(
                "new Promise(done => { const look = () => { const p = performance.getEntriesByName('first-contentful-paint')[0];"
                " if (p) done(p.startTime); else requestAnimationFrame(look); }; look(); })"
            )
        )
        fetched = {url.split("?")[0].split("#")[0].removeprefix(base) for url in asked}
        context.close()
    files = [site / name for name in sorted(fetched) if name]
    own = [path for path in files if path.suffix not in AUDIO]
    return {
        "files": len(own),
        "bytes": sum(path.stat().st_size for path in own),
        "gzip": sum(len(gzip.compress(path.read_bytes(), 6)) for path in own),
        "html": (site / rel).stat().st_size,
        "audio": [path.name for path in files if path.suffix in AUDIO],
        "fcp": statistics.median(paints),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="loads of each page per viewport (the median is shown)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="panelpress-pages-") as temp:
        site = build(Path(temp))
        server = Server(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        pages = sorted(str(path.relative_to(site)) for path in site.rglob("*.html"))
        started, cpu, browser_cpu = time.monotonic(), time.process_time(), _cpu_of_children()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for label, viewport in VIEWPORTS.items():
                print(f"\n{label} (median of {args.runs} loads, each in a fresh profile)")
                print(f"{'page':<48} {'HTML':>8} {'all, no audio':>14} {'gzipped':>9} {'files':>6} {'FCP':>8}")
                for rel in pages:
                    found = measure(browser, base, rel, viewport, args.runs, site)
                    print(
                        f"{rel:<48} {found['html'] / 1000:>6.1f} kB {found['bytes'] / 1000:>11.1f} kB"
                        f" {found['gzip'] / 1000:>6.1f} kB {found['files']:>6} {found['fcp']:>5.0f} ms"
                        + (f"  (+ the first bytes of {', '.join(found['audio'])})" if found["audio"] else "")
                    )
            browser.close()
        server.shutdown()
        tree = time.process_time() - cpu + _cpu_of_children() - browser_cpu
        print(
            f"\nmeasuring: {time.monotonic() - started:.1f} s wall, {tree:.1f} s CPU (this process and the browser's);"
            f" load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )


if __name__ == "__main__":
    main()
