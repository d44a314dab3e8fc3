"""The compiled core and its pure-Python source: the same counts, and never a silent change of speed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

from loadtool import speedups
from loadtool.engines.http import MAX_HEADERS, MAX_LINE

HERE = Path(__file__).resolve().parent
PURE = {**os.environ, speedups.ENVIRONMENT: "1"}
DEFAULT = {name: value for name, value in os.environ.items() if name != speedups.ENVIRONMENT}
FILES = "import importlib, json, loadtool.speedups as s; " \
        "print(json.dumps([importlib.import_module('loadtool.' + m).__file__ for m in s.COMPILED]))"


def _can_compile() -> bool:
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(compiler) is not None and Path(sysconfig.get_paths()["include"], "Python.h").exists()


needs_the_build = pytest.mark.skipif(not speedups.built(), reason="the compiled core is not built here")


def _python(env: dict, *args: str) -> str:
    # Run from this folder, never the repository's root: there ``import loadtool`` would find
    # the source tree (no compiled modules in it after ``pip install .``) before the install.
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=120,
                          check=True, cwd=HERE).stdout


@pytest.mark.skipif(not _can_compile(), reason="no C compiler or Python headers: the core cannot be built here")
def test_where_a_compiler_is_the_core_is_built_and_runs_by_default():
    """pip install . had a compiler: every module of the core must be built (a build that
    failed and fell back would otherwise pass every other test, slower)."""
    assert speedups.built() == speedups.CORE, \
        "pip install . had a C compiler here: reinstall to build the core"
    files = json.loads(_python(DEFAULT, "-c", FILES))
    assert all(file.endswith(tuple(EXTENSION_SUFFIXES)) for file in files), files
    assert "compiled core" in _python(DEFAULT, "-m", "loadtool", "--version")


def _fetch(env: dict, tmp_path) -> tuple[str, dict]:
    """The report's first line and the JSON result of one small run."""
    text = _python(env, "-m", "loadtool", "fetch", "-n", "20", "-c", "5", "--no-progress", "-o",
                   str(tmp_path / "result.json"))
    return text.splitlines()[0], json.loads((tmp_path / "result.json").read_text())


def test_LOADTOOL_NO_EXTENSIONS_runs_the_source_and_every_report_says_so(tmp_path):
    files = json.loads(_python(PURE, "-c", FILES))
    assert [Path(file).name for file in files] == [name.rpartition(".")[2] + ".py" for name in speedups.COMPILED]
    assert "pure Python: LOADTOOL_NO_EXTENSIONS=1" in _python(PURE, "-m", "loadtool", "--version")
    first, result = _fetch(PURE, tmp_path)
    assert first.endswith("· pure Python"), first
    assert result["client"]["core"] == "pure Python"


@needs_the_build
def test_the_compiled_core_says_nothing_of_pure_python(tmp_path):
    first, result = _fetch(DEFAULT, tmp_path)
    assert first.startswith("loadtool fetch") and "pure Python" not in first
    assert result["client"]["core"] == "compiled"


@needs_the_build
def test_the_compiled_core_counts_exactly_what_its_source_counts(seed=1):
    """The same stream of attempts (tests/differential.py) through the Policy into Stats,
    compiled and pure: every count, bucket, series row, phase, step and check the same, and
    the same on the wire."""
    compiled = json.loads(_python(DEFAULT, str(HERE / "differential.py"), str(seed)))
    pure = json.loads(_python(PURE, str(HERE / "differential.py"), str(seed)))
    assert (compiled.pop("core"), pure.pop("core")) == ("compiled core", "pure Python: LOADTOOL_NO_EXTENSIONS=1")
    assert compiled["closed"]["counts"]["ops"] > 1000 and compiled["open"]["counts"]["ops"] > 1000
    assert compiled["merged"]["steps"] and compiled["closed"]["phases_ms"] and compiled["closed"]["checks"]
    for name in ("closed", "open", "merged"):
        for part in compiled[name]:
            assert compiled[name][part] == pure[name][part], (name, part)


def test_the_source_finder_takes_only_loadtools_own_modules():
    finder = speedups._PurePython()
    home = str(Path(speedups.__file__).parent / "metrics")
    assert finder.find_spec("loadtool.metrics.stats", [home]).origin.endswith("stats.py")
    assert finder.find_spec("json.decoder", [str(Path(json.__file__).parent)]) is None
    assert finder.find_spec("loadtool.metrics", None) is None  # a top-level search: Python's own
    assert finder.find_spec("loadtool.metrics.nothing", [home]) is None


@needs_the_build
def test_the_core_tests_pass_on_the_pure_path_too():
    """The suite runs the compiled core in this process; the tests of the modules it compiles
    run here once more on their source (LOADTOOL_NO_EXTENSIONS=1), so both paths are tested
    wherever the suite runs."""
    tests = [str(HERE / name) for name in ("test_metrics.py", "test_core.py")]
    # A run of its own, not a part of this one: with this run's id it would queue at this
    # run's gate (conftest) behind a test waiting for this one to end.
    alone = {name: value for name, value in PURE.items() if not name.startswith("PYTEST_")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", *tests],
                          env=alone, capture_output=True, text=True, timeout=240, cwd=HERE)
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout.splitlines()[-1] and "failed" not in done.stdout.splitlines()[-1]


def test_the_curl_engine_takes_its_C_callbacks_from_the_compiled_core_only():
    probe = "import loadtool.engines.curl as c; print(c.Hooks is not None)"
    assert _python(PURE, "-c", probe).split() == ["False"]
    if "engines.curlhooks" in speedups.built():
        assert _python(DEFAULT, "-c", probe).split() == ["True"]


class _Receiver:
    """Takes the chunks it is given, as the curl engine's receiver does with a body it decodes."""

    keep = lines = error = None
    started = False

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def __call__(self, chunk: bytes) -> None:
        self.started = True
        self.chunks.append(chunk)


def _transfer(url: str, hooked: bool) -> dict:
    import pycurl

    from loadtool.engines.curlhooks import Hooks

    handle, receiver, lines = pycurl.Curl(), _Receiver(), []
    handle.setopt(pycurl.URL, url)
    handle.setopt(pycurl.FOLLOWLOCATION, 1)
    handle.setopt(pycurl.HTTPHEADER, ["Accept-Encoding: gzip"])
    if hooked:
        hooks = Hooks(handle, receiver)
        hooks.reset()
    else:
        handle.setopt(pycurl.WRITEFUNCTION, receiver)
        handle.setopt(pycurl.HEADERFUNCTION, lines.append)
    handle.perform()
    if hooked:
        lines = hooks.lines()
        assert (hooks.count, hooks.size, hooks.blank_end) == (len(lines), sum(map(len, lines)), lines[-1] == b"\r\n")
        version, status, size, connects, redirects, *times = hooks.facts(MAX_HEADERS + 2, MAX_LINE)
        assert (version, status, size, connects, redirects) == tuple(
            handle.getinfo(option) for option in (pycurl.INFO_HTTP_VERSION, pycurl.RESPONSE_CODE,
                                                  pycurl.SIZE_DOWNLOAD_T, pycurl.NUM_CONNECTS, pycurl.REDIRECT_COUNT))
        assert hooks.facts(len(lines) - 1, MAX_LINE) is None and hooks.facts(MAX_HEADERS + 2, 10) is None  # limits
        assert hooks.info(pycurl.EFFECTIVE_URL) == handle.getinfo(pycurl.EFFECTIVE_URL)
        assert receiver.lines in (None, lines)
    handle.close()
    return {"lines": [line for line in lines if not line.lower().startswith(b"date:")],
            "body": b"".join(receiver.chunks)}


@pytest.mark.skipif("engines.curlhooks" not in speedups.built() or speedups.disabled(),
                    reason="the curl engine's C callbacks are not built here")
def test_the_C_callbacks_hand_over_the_lines_and_bodies_pycurls_would(server):
    """The head's lines (every answer's: a redirect's too) as pycurl's HEADERFUNCTION gets
    them; a compressed body to the receiver, chunk for chunk; a plain body to no one."""
    redirected = _transfer(server.url("/redirect/2"), hooked=True)
    assert redirected == {**_transfer(server.url("/redirect/2"), hooked=False), "body": b""}
    assert sum(line.startswith(b"HTTP/") for line in redirected["lines"]) == 3
    compressed = _transfer(server.url("/page/3"), hooked=True)
    assert compressed == _transfer(server.url("/page/3"), hooked=False)
    assert b"content-encoding: gzip\r\n" in [line.lower() for line in compressed["lines"]]
    assert compressed["body"][:2] == b"\x1f\x8b"


def test_the_C_callbacks_refuse_what_is_not_a_pycurl_handle():
    curlhooks = pytest.importorskip("loadtool.engines.curlhooks")
    with pytest.raises(curlhooks.HooksUnavailable):
        curlhooks.Hooks(object(), _Receiver())
