#!/usr/bin/env python3
"""A screenshot of loadtool's HTML report, to look at what it draws: runs a command with
--html (by default a 3 s comparison of threads and async on the fixture server) and has
headless Chromium render it to a PNG.

    python scripts/html_screenshot.py [--out report.png] [-- LOADTOOL ARGS...]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT = ["compare", "/delay/20", "-d", "3s", "--strategies", "threads,async"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="report.png", help="the PNG to write")
    parser.add_argument("--width", type=int, default=1300)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("args", nargs="*", help="loadtool arguments (default: %(default)s)", default=DEFAULT)
    options = parser.parse_args()
    browser = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                    if shutil.which(name)), None)
    if browser is None:
        sys.exit("no Chromium here: apt-get install chromium")
    with tempfile.TemporaryDirectory() as directory:
        page = Path(directory) / "report.html"
        subprocess.run([sys.executable, "-m", "loadtool", *options.args, "--html", str(page), "-q"], check=True)
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--window-size={options.width},{options.height}", "--virtual-time-budget=10000",
                        f"--screenshot={Path(options.out).resolve()}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)
    print(f"wrote {options.out}")


if __name__ == "__main__":
    main()
