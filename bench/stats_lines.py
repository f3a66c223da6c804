"""Benchmark: what a stats worker spends per line (the reader, then the rules), this tree against an earlier revision,
the two interleaved chunk by chunk in one process.

On a shared machine whose speed moves by a quarter from one minute to the next, whole `stats` runs of two versions
one after the other measure the minutes more than the code. Here both versions count the same lines: each 1 MB chunk
of bench/stats.py's log is read and counted by one version, then by the other (which goes first alternates), each
with its own reader and rules, and each timed by its thread's CPU clock. Both must reach the same counts.

    .venv/bin/python bench/stats_lines.py --before 99c4c8f
    .venv/bin/python bench/stats_lines.py --before 99c4c8f --lines 1000000 --rounds 3
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.edit import checkout
from bench.stats import make_show, write_log

CHUNK = 1 << 20  # as `count.CHUNK`: what the reader hands over at a time


def versions(before: str, folder: Path) -> dict[str, str]:
    """This tree's package and `before`'s, importable side by side: name shown → package name."""
    tree = checkout(before, folder / "before")
    (tree / "pipeline").rename(tree / "pipeline_before")  # its modules import each other relatively
    sys.path.insert(0, str(tree))
    return {"this tree": "pipeline", before: "pipeline_before"}


def chunks(log: Path) -> list[bytes]:
    """The log's whole lines, about a chunk at a time, joined by newlines (as a worker is given them)."""
    data = log.read_bytes()
    found, at = [], 0
    while at < len(data):
        end = data.rfind(b"\n", at, at + CHUNK)
        if end <= at:
            end = len(data)
        found.append(data[at:end])
        at = end + 1
    return found


def counting(package: str, show: Path):
    """A version's reader and rules over the show, as a worker makes them."""
    config = importlib.import_module(f"{package}.config")
    media = importlib.import_module(f"{package}.stats.media")
    formats = importlib.import_module(f"{package}.stats.formats")
    rules = importlib.import_module(f"{package}.stats.rules").Rules(media.show(config.load(show)), b"bench salt")
    return formats.reader(formats.COMBINED, formats.combined, rules.wanted), rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, metavar="REV", help="the revision to compare with (git)")
    parser.add_argument("--lines", type=int, default=300_000, help="lines of the log (default 300,000)")
    parser.add_argument("--rounds", type=int, default=3, help="times each version counts the whole log (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stats-lines-") as folder:
        named = versions(args.before, Path(folder))
        show, files = make_show(Path(folder) / "show")
        log = Path(folder) / "access.log"
        write_log(log, args.lines, files, time.mktime((2026, 1, 1, 0, 0, 0, 0, 0, 0)), seed=args.lines)
        blocks = chunks(log)
        lines = sum(block.count(b"\n") + 1 for block in blocks)
        spent = {name: [0.0, 0.0] for name in named}
        gc.disable()  # as the workers count
        for round_ in range(args.rounds):
            made = {name: counting(package, show) for name, package in named.items()}
            for at, block in enumerate(blocks):
                for name in list(named)[:: 1 if (at + round_) % 2 == 0 else -1]:
                    read, rules = made[name]
                    start = time.thread_time()
                    requests, _unread = read(block)
                    middle = time.thread_time()
                    rules.add_all(requests)
                    spent[name][0] += middle - start
                    spent[name][1] += time.thread_time() - middle
            counts = {
                name: (dict(rules.counts.downloads), dict(rules.counts.left_out)) for name, (_, rules) in made.items()
            }
            if len({repr(sorted(c[0].items())) + repr(sorted(c[1].items())) for c in counts.values()}) != 1:
                raise SystemExit("the two versions counted differently")
            gc.collect()
        print(f"{lines:,} lines, {args.rounds} rounds, each chunk counted by both in turn (CPU µs per line):")
        for name, (reading, ruling) in spent.items():
            each = args.rounds * lines / 1e6
            print(
                f"  {name:>12}: reader {reading / each:5.2f}, rules {ruling / each:5.2f}, "
                f"together {(reading + ruling) / each:5.2f}"
            )
        (now_read, now_rules), (then_read, then_rules) = spent.values()
        print(
            f"  this tree / {args.before}: reader {now_read / then_read:.3f}, rules {now_rules / then_rules:.3f}, "
            f"together {(now_read + now_rules) / (then_read + then_rules):.3f}"
        )


if __name__ == "__main__":
    main()
