"""Helpers shared by the benchmark scripts: where results go, how a run is measured."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(os.environ.get("LOADTOOL_BENCH_DIR", Path(__file__).resolve().parent.parent / "bench-results"))


def machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def write(name: str, data: dict) -> Path:
    """Write one benchmark's JSON (with the machine it ran on) and return its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2) + "\n")
    print(f"wrote {path}")
    return path


def loadtool_json(*args: str, timeout: float = 600) -> dict:
    """Run `loadtool fetch ARGS --format json` in a fresh process and return its result."""
    run = subprocess.run([sys.executable, "-m", "loadtool", "fetch", *args, "--format", "json", "--no-progress"],
                         capture_output=True, text=True, timeout=timeout)
    if run.returncode not in (0, 1):
        raise SystemExit(f"loadtool fetch {' '.join(args)} failed ({run.returncode}): {run.stderr.strip()}")
    return json.loads(run.stdout)
