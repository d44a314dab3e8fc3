"""`loadtool files make` and `loadtool read`, as a user runs them."""

import hashlib
import os
from pathlib import Path

import pytest

from loadtool.targets.tree import relative_path
from loadtool.targets import MANIFEST_NAME

STRATEGIES = ["sequential", "threads", "processes", "async"]


def _tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    from loadtool.targets.tree import make_tree, parse_sizes

    root = tmp_path_factory.mktemp("tree")
    make_tree(root, 600, parse_sizes(None, "lognormal:median=2KiB,sigma=1"), seed=5)
    return root


def test_make_is_deterministic_in_its_arguments(loadtool_cli, tmp_path):
    for name in ("a", "b"):
        out = loadtool_cli("files", "make", str(tmp_path / name), "-n", "300", "--sizes",
                           "lognormal:median=1KiB", "--seed", "9")
        assert out.exit_code == 0, out.stderr
    assert _tree_bytes(tmp_path / "a") == _tree_bytes(tmp_path / "b")
    loadtool_cli("files", "make", str(tmp_path / "c"), "-n", "300", "--sizes", "lognormal:median=1KiB", "--seed", "10")
    assert _tree_bytes(tmp_path / "a") != _tree_bytes(tmp_path / "c")


def test_make_spreads_files_over_small_directories(tree):
    per_directory = {}
    for path in tree.rglob("*.bin"):
        per_directory[path.parent] = per_directory.get(path.parent, 0) + 1
    assert sum(per_directory.values()) == 600
    assert max(per_directory.values()) <= 256
    assert relative_path(70_000) == "01/11/00011170.bin"


def test_the_manifest_lists_size_and_sha256_of_every_file(tree):
    lines = (tree / MANIFEST_NAME).read_text().splitlines()
    assert lines[0].startswith("# loadtool files manifest v1 seed=5 count=600")
    for line in lines[1:20]:
        relative, size, digest = line.split("\t")
        data = (tree / relative).read_bytes()
        assert len(data) == int(size) and hashlib.sha256(data).hexdigest() == digest


def test_make_refuses_a_directory_with_other_files(loadtool_cli, tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    out = loadtool_cli("files", "make", str(tmp_path), "-n", "3")
    assert out.exit_code == 2 and "not empty" in out.stderr
    assert (tmp_path / "mine.txt").read_text() == "keep me"


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_reads_the_whole_tree_and_verifies_it(loadtool_cli, tree, strategy):
    out = loadtool_cli("read", str(tree), "-s", strategy, "-c", "8", "--verify", "sha256", "--format", "json")
    assert out.exit_code == 0, out.stderr
    result = out.json()
    manifest = (tree / MANIFEST_NAME).read_text().splitlines()[1:]
    assert result["ops"] == result["ok"] == 600
    assert result["bytes"] == sum(int(line.split("\t")[1]) for line in manifest)
    assert result["errors"] == {}


@pytest.mark.parametrize("block_size", ["0", "512", "1MiB"])
def test_block_sizes_do_not_change_what_is_read(loadtool_cli, tree, block_size):
    result = loadtool_cli("read", str(tree), "-b", block_size, "-s", "sequential", "--verify", "sha256",
                          "--format", "json").json()
    assert result["ok"] == 600


def test_a_corrupted_file_is_a_counted_verify_failure(loadtool_cli, tmp_path):
    loadtool_cli("files", "make", str(tmp_path), "-n", "20")
    victim = tmp_path / relative_path(7)
    victim.write_bytes(b"X" + victim.read_bytes()[1:])
    for strategy in ("sequential", "async"):
        result = loadtool_cli("read", str(tmp_path), "-s", strategy, "--verify", "sha256", "--format", "json").json()
        assert result["ok"] == 19 and result["errors"] == {"verify_failed": 1}


def test_missing_unreadable_and_directory_entries_are_counted(loadtool_cli, tmp_path):
    good = tmp_path / "good.bin"
    good.write_bytes(b"x" * 10)
    locked = tmp_path / "locked.bin"
    locked.write_bytes(b"y")
    locked.chmod(0)
    listing = tmp_path / "list.txt"
    listing.write_text(f"{good}\n{tmp_path / 'gone.bin'}\n{tmp_path}\n{locked}\n")
    result = loadtool_cli("read", "--from-list", str(listing), "--format", "json").json()
    expected = {"file_not_found": 1, "is_a_directory": 1}
    if os.geteuid() != 0:  # root reads anything
        expected["permission_denied"] = 1
    assert result["errors"] == expected
    assert result["ops"] == 4


def test_a_directory_is_walked_and_recursion_is_asked_for(loadtool_cli, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "top.bin").write_bytes(b"12345")
    (tmp_path / "sub" / "deep.bin").write_bytes(b"123")
    assert loadtool_cli("read", str(tmp_path), "--format", "json").json()["bytes"] == 5
    assert loadtool_cli("read", str(tmp_path), "-R", "--format", "json").json()["bytes"] == 8


def test_with_no_path_a_temporary_tree_is_made_read_and_removed(loadtool_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    result = loadtool_cli("read", "-n", "120", "--file-size", "1KiB", "--verify", "sha256", "--format", "json").json()
    assert result["ok"] == 120 and result["bytes"] == 120 * 1024
    assert not any(tmp_path.glob("loadtool-tree-*"))


def test_the_report_says_whether_reads_came_from_the_page_cache(loadtool_cli, tree):
    warm = loadtool_cli("read", str(tree), "--format", "json").json()
    cold = loadtool_cli("read", str(tree), "--evict-cache", "--format", "json").json()
    if warm["page_cache"] is None:
        pytest.skip("no mincore on this platform")
    assert warm["page_cache"] > 0.9
    assert cold["page_cache"] < warm["page_cache"]
    assert "page cache" in loadtool_cli("read", str(tree)).stdout


@pytest.mark.parametrize("args, says", [
    (["/no/such/path"], "no such file"),
    (["--from-list", "/no/such/list"], "cannot read list file"),
    (["--block-size", "huge"], "--block-size"),
    (["--file-size", "big"], "not a size"),
    (["--verify", "sha256", "."], "--verify needs"),
    (["--verify", "md5"], "--verify"),
])
def test_bad_read_input_is_one_line_and_exit_2(loadtool_cli, args, says, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.bin").write_bytes(b"a")
    out = loadtool_cli("read", *args)
    assert out.exit_code == 2, out.stdout
    assert len(out.stderr.strip().splitlines()) == 1 and says in out.stderr


def test_an_empty_directory_is_a_usage_error(loadtool_cli, tmp_path):
    out = loadtool_cli("read", str(tmp_path))
    assert out.exit_code == 2 and "no files" in out.stderr


@pytest.fixture
def odd_files(tmp_path):
    """A directory with a regular file, a FIFO nobody writes to, and a loop of symbolic links."""
    (tmp_path / "plain.txt").write_bytes(b"hello\n")
    os.mkfifo(tmp_path / "pipe")
    os.symlink(tmp_path / "loop-b", tmp_path / "loop-a")
    os.symlink(tmp_path / "loop-a", tmp_path / "loop-b")
    return tmp_path


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_fifos_and_symlink_loops_are_counted_not_opened(loadtool_cli, odd_files, strategy):
    # A FIFO with no writer would block an open() for good, in the read and in the page-cache sample.
    out = loadtool_cli("read", str(odd_files), "-s", strategy, "--format", "json")
    result = out.json()
    assert result["ops"] == 4 and result["ok"] == 1 and result["bytes"] == 6
    assert result["errors"] == {"not_a_file": 1, "symlink_loop": 2}


def test_a_signal_while_the_tree_is_made_still_reports_and_cleans_up(tmp_path):
    import glob
    import json
    import signal
    import subprocess
    import sys
    import time

    # A temporary folder of its own: another test's tree in the shared one is not this run's
    # (it was taken for it, and the signal came before loadtool could catch it).
    pattern = os.path.join(tmp_path, "loadtool-tree-*")
    before = set(glob.glob(pattern))
    process = subprocess.Popen([sys.executable, "-m", "loadtool", "read", "-n", "1M", "--format", "json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "TMPDIR": str(tmp_path)})
    deadline = time.monotonic() + 30
    while not set(glob.glob(pattern)) - before:  # until the temporary tree is being written
        assert time.monotonic() < deadline and process.poll() is None, "the tree was never started"
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    result = json.loads(out)
    assert result["interrupted"] == "SIGTERM" and result["ops"] == 0
    assert set(glob.glob(pattern)) == before  # the partial tree is removed
