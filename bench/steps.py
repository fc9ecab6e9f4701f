"""CPU time of each step of the CLI, measured on its own, and the wall-time bound they give.

Usage::

    python bench/steps.py [--rows 1000000] [--style nordic|us] [--runs 3]

Each run is a fresh process that imports labinterp, reads a seeded synthetic export
(made by ``bench/exports.py``) in the CLI's batches, interprets the batches and
writes them with the CLI's writer, once as Parquet and once as CSV with ``--texts table``.
The CPU time of each step (user + system, all threads, ``resource.getrusage``) is printed
with the bare ``pandas.read_csv`` baseline of ``bench/run.py``.

Start-up and imports run before anything else can; the other steps can at best share the
machine's cores perfectly. So the CLI cannot take less wall time than
``imports + (read + interpret + write) / cores``; the script prints that bound as a
ratio to the baseline. It measures; it sets no target.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from exports import make_export
from run import once

#: Run in a fresh process: prints the CPU seconds of each step as JSON.
_PROBE = r"""
import json, resource, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
start = cpu()
from pathlib import Path
import labinterp.cli as cli
from labinterp.engine import interpret
from labinterp.io.writers import BatchWriter, texts_path
from labinterp.stream import iter_csv
steps = {"imports": cpu() - start}
path, profile, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
mark = cpu()
batches = [frame for frame, _ in iter_csv(path, batch_lines=cli.CHUNK_ROWS)]
steps["read"] = cpu() - mark
mark = cpu()
results = [interpret(batch, profile=profile, on_invalid="record") for batch in batches]
steps["interpret"] = cpu() - mark
for name, fmt, table in (("write parquet", "parquet", False), ("write csv, texts table", "csv", True)):
    mark = cpu()
    writer = BatchWriter(out, fmt, texts="table" if table else "inline")
    for result in results:
        writer.write(result)
    writer.close()
    steps[name] = cpu() - mark
    out.unlink()
    texts_path(out).unlink(missing_ok=True)
print(json.dumps(steps))
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--style", choices=["nordic", "us"], default="nordic")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    profile = "no" if args.style == "nordic" else "us"
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        path = make_export(Path(tmp) / f"{args.style}.csv", args.rows, args.style)
        sep = ";" if args.style == "nordic" else ","
        encoding = "latin-1" if args.style == "nordic" else "utf-8"
        baseline = min(
            once(lambda: pd.read_csv(path, sep=sep, dtype=str, encoding=encoding)) for _ in range(3)
        )
        runs = []
        for _ in range(args.runs):
            done = subprocess.run(
                [sys.executable, "-c", _PROBE, str(path), profile, str(Path(tmp) / "out")],
                check=True,
                capture_output=True,
                text=True,
            )
            runs.append(json.loads(done.stdout))
    print(f"{args.style}: {args.rows} rows; pandas.read_csv {baseline:.2f} s; {cores} cores")
    for step in runs[0]:
        seconds = [run[step] for run in runs]
        print(f"  {step:<24} CPU {min(seconds):.2f}-{max(seconds):.2f} s")
    for write in ("write parquet", "write csv, texts table"):
        bounds = [
            run["imports"] + (run["read"] + run["interpret"] + run[write]) / cores for run in runs
        ]
        low = min(bounds)
        print(
            f"  bound for the CLI with {write[6:]}: {low:.2f} s "
            f"({low / baseline:.1f}x the baseline) at best"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
