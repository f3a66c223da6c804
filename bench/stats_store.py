"""Benchmark: the state `panelpress stats` keeps between runs, in SQLite (what it uses) and in DuckDB (measured only).

A run's state work, as pipeline/stats/store.py does it: open the file; read the open windows and the agents' shapes;
then in one transaction upsert the counted downloads (per episode, edition, day, app, platform), replace the open
windows (a day of listeners, hashed) and the apps seen; then the report's read of every download row. Each engine
does the same statements on the same rows, a fresh file each time, best of five; the engine's import is measured
apart (a `stats` run pays it once).

    .venv/bin/python bench/stats_store.py                  # SQLite; DuckDB too when it is importable
    PYTHONPATH=/some/folder/with/duckdb .venv/bin/python bench/stats_store.py
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCHEMA = [
    "CREATE TABLE downloads (slug TEXT, edition TEXT, day TEXT, app TEXT, platform TEXT, n INTEGER, "
    "PRIMARY KEY (slug, edition, day, app, platform))",
    "CREATE TABLE windows (listener BLOB PRIMARY KEY, rel TEXT, start INTEGER, audio INTEGER, counted INTEGER, "
    "app TEXT, platform TEXT)",
    "CREATE TABLE served (address BLOB, rel TEXT, ts INTEGER, app TEXT, PRIMARY KEY (address, rel))",
]
UPSERT = (
    "INSERT INTO downloads VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (slug, edition, day, app, platform) "
    "DO UPDATE SET n = downloads.n + excluded.n"
)


def rows(downloads: int, windows: int, seed: int = 1):
    rng = random.Random(seed)
    apps = ["Apple Podcasts", "Spotify", "Overcast", "Pocket Casts", "AntennaPod", "Castro", "Chrome"]
    down = {}
    while len(down) < downloads:
        key = (f"episode-{rng.randint(1, 300):03d}", "mp3", f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
        down[(*key, rng.choice(apps), rng.choice(["Apple iPhone", "Android Phone", "Windows Computer"]))] = 1
    open_windows = [
        (
            os.urandom(16),
            "media/episode-001.mp3",
            1_790_000_000 + n,
            rng.randint(0, 10**7),
            n % 2,
            "Spotify",
            "Apple iPhone",
        )
        for n in range(windows)
    ]
    served = [
        (os.urandom(16), "media/episode-001.mp3", 1_790_000_000 + n, "Apple Podcasts") for n in range(windows // 3)
    ]
    return [(*key, n) for key, n in down.items()], open_windows, served


def run(engine: str, path: Path, downloads, windows, served) -> dict[str, float]:
    if engine == "sqlite":
        import sqlite3

        connect = sqlite3.connect
    else:
        import duckdb

        connect = duckdb.connect
    times = {}
    began = time.perf_counter()
    db = connect(str(path))
    for statement in SCHEMA:
        db.execute(statement)
    times["open"] = time.perf_counter() - began
    began = time.perf_counter()
    db.execute("BEGIN TRANSACTION")
    db.executemany(UPSERT, downloads)
    db.execute("DELETE FROM windows")
    db.executemany("INSERT INTO windows VALUES (?, ?, ?, ?, ?, ?, ?)", windows)
    db.execute("DELETE FROM served")
    db.executemany("INSERT INTO served VALUES (?, ?, ?, ?)", served)
    db.execute("COMMIT")
    times["save"] = time.perf_counter() - began
    began = time.perf_counter()
    db.execute("BEGIN TRANSACTION")  # a second run: the same counts again (every row an update)
    db.executemany(UPSERT, downloads)
    db.execute("COMMIT")
    times["upsert again"] = time.perf_counter() - began
    began = time.perf_counter()
    found = db.execute("SELECT * FROM windows").fetchall()
    assert len(found) == len(windows)
    times["read windows"] = time.perf_counter() - began
    began = time.perf_counter()
    report = db.execute("SELECT slug, edition, day, app, platform, n FROM downloads ORDER BY 1, 2, 3, 4, 5").fetchall()
    assert len(report) == len(downloads)
    times["report"] = time.perf_counter() - began
    db.close()
    return times


def import_time(engine: str) -> float:
    module = "sqlite3" if engine == "sqlite" else "duckdb"
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ)
    return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--downloads", type=int, default=50_000, help="download rows (episode × day × app × platform)")
    parser.add_argument("--windows", type=int, default=30_000, help="open windows (a day of listeners)")
    args = parser.parse_args()
    data = rows(args.downloads, args.windows)
    engines = ["sqlite"]
    try:
        importlib.import_module("duckdb")
        engines.append("duckdb")
    except ImportError:
        print("duckdb is not importable: SQLite only")
    print(f"{args.downloads:,} download rows, {args.windows:,} windows, {args.windows // 3:,} apps seen; best of 5 (s)")
    for engine in engines:
        best: dict[str, float] = {}
        for _ in range(5):
            with tempfile.TemporaryDirectory() as folder:
                for key, value in run(engine, Path(folder) / "state.db", *data).items():
                    best[key] = min(best.get(key, value), value)
        imported = min(import_time(engine) for _ in range(3))
        total = imported + sum(best.values())
        print(
            f"  {engine:7} import {imported:.3f}  "
            + "  ".join(f"{key} {value:.3f}" for key, value in best.items())
            + f"  total {total:.3f}"
        )
    print(f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
