"""A failed operation is a counted error; bad input is one line and exit 2, never a traceback."""

import os
import socket
import subprocess
import sys

import pytest


@pytest.fixture
def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("strategy", ["sequential", "threads", "processes", "async"])
def test_a_closed_port_counts_connect_refused_and_exits_3(loadtool_cli, closed_port, strategy):
    out = loadtool_cli("fetch", f"http://127.0.0.1:{closed_port}/", "-s", strategy, "-n", "6", "-c", "3",
                       "--format", "json")
    assert out.exit_code == 3
    assert out.json()["errors"] == {"connect_refused": 6}
    assert "every operation failed" in out.stderr and "connect_refused" in out.stderr


def test_some_failures_still_exit_0_and_are_reported(loadtool_cli, server, closed_port):
    out = loadtool_cli("fetch", server.url("/health"), f"http://127.0.0.1:{closed_port}/", "-n", "4",
                       "--format", "json")
    assert out.exit_code == 0
    assert out.json()["ok"] == 2 and out.json()["errors"] == {"connect_refused": 2}


def test_http_errors_count_by_status_and_ok_status_decides(loadtool_cli, server):
    out = loadtool_cli("fetch", "/status/503", "--server", server.base_url, "-n", "3", "--format", "json")
    assert out.json()["status"] == {"503": 3} and out.json()["ok"] == 0 and out.exit_code == 3
    out = loadtool_cli("fetch", "/status/503", "--server", server.base_url, "-n", "3", "--format", "json",
                       "--ok-status", "200-299,503")
    assert out.json()["ok"] == 3 and out.exit_code == 0


def test_too_many_redirects_is_its_own_kind(loadtool_cli, server):
    out = loadtool_cli("fetch", "/redirect/12", "--server", server.base_url, "-n", "2", "--format", "json")
    assert out.json()["errors"] == {"too_many_redirects": 2}


def test_a_timeout_is_a_read_timeout(loadtool_cli, server):
    out = loadtool_cli("fetch", "/delay/2000", "--server", server.base_url, "-n", "2", "--timeout", "200ms",
                       "--format", "json")
    assert out.json()["errors"] == {"read_timeout": 2}


BAD_INPUT = [
    (["--strategy", "warp"], "--strategy"),
    (["--count", "0"], "--count"),
    (["--count", "-3"], "--count"),
    (["--count", "many"], "--count"),
    (["--concurrency", "0"], "--concurrency"),
    (["--timeout", "soon"], "--timeout"),
    (["--rate", "fast"], "--rate"),
    (["--header", "no colon"], "--header"),
    (["--ok-status", "2xx"], "--ok-status"),
    (["--urls-file", "/no/such/file"], "cannot read"),
    (["ftp://example.org/"], "bad URL"),
    (["http://"], "bad URL"),
    (["/delay/1", "http://example.org/"], "mix"),
    (["--body", "@/no/such/body"], "--body"),
    (["--server", "nowhere"], "--server"),
]


@pytest.mark.parametrize("args, says", BAD_INPUT)
def test_bad_input_is_one_line_and_exit_2(loadtool_cli, args, says):
    out = loadtool_cli("fetch", *args)
    assert out.exit_code == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0]
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_bad_input_from_the_installed_command_is_one_line(closed_port):
    run = subprocess.run([sys.executable, "-m", "loadtool", "fetch", "--count", "-1"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "--count must be between 1 and" in run.stderr


@pytest.mark.parametrize("option", ["--output", "--series", "--junit", "--plot", "--raw"])
def test_an_unwritable_output_path_is_refused_before_the_run(loadtool_cli, option):
    path = "/nonexistent/dir/out." + {"--junit": "xml", "--plot": "png", "--raw": "csv"}.get(option, "json")
    out = loadtool_cli("fetch", "/delay/1000", "-n", "2", "-c", "1", option, path)
    assert out.exit_code == 2 and out.stdout == ""  # nothing ran: no report
    assert len(out.stderr.strip().splitlines()) == 1 and "no such directory" in out.stderr


def test_a_report_that_cannot_be_written_after_the_run_goes_to_stdout(capsys, tmp_path, server):
    import loadtool
    from loadtool.cli.deliver import Delivery, WriteFailed, emit

    result = loadtool.run(urls=["/health"], server=server.base_url, count=3)
    with pytest.raises(WriteFailed):
        emit([result], Delivery(fmt="json", output=str(tmp_path / "gone" / "result.json"), quiet=True))
    assert '"schema": "loadtool.result/1"' in capsys.readouterr().out


def test_a_body_from_a_fifo_is_refused(loadtool_cli, tmp_path):
    fifo = tmp_path / "body"
    os.mkfifo(fifo)
    out = loadtool_cli("fetch", "/health", "-m", "POST", "--body", f"@{fifo}")
    assert out.exit_code == 2 and "not a regular file" in out.stderr


def test_a_body_file_is_read_up_to_its_cap(loadtool_cli, server, tmp_path):
    body = tmp_path / "body.bin"
    body.write_bytes(b"b" * 3000)
    out = loadtool_cli("fetch", "/delay/1", "--server", server.base_url, "-m", "POST", "--body", f"@{body}",
                       "--max-body", "2KiB")
    assert out.exit_code == 2 and "over 2KiB" in out.stderr and "--max-body" in out.stderr
    out = loadtool_cli("fetch", "/delay/1", "--server", server.base_url, "-m", "POST", "--body", f"@{body}",
                       "--max-body", "4KiB", "-n", "2", "--format", "json")
    assert out.exit_code == 0 and out.json()["job"]["body"] == "3000 bytes"


def test_a_bug_inside_a_run_is_an_internal_error_not_a_usage_error(monkeypatch, tmp_path):
    """A ValueError raised by loadtool's own code during a pilot is exit 3 and one line that
    names it a bug, with the traceback kept in a file, never 'usage' and exit 2."""
    import tempfile

    from click.testing import CliRunner

    import loadtool.plan
    from loadtool.cli import cli

    def broken_pilot(*args, **kwargs):
        raise ValueError("a bug in the pilot")

    monkeypatch.setattr(loadtool.plan, "pilot", broken_pilot)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("LOADTOOL_DEBUG", raising=False)
    out = CliRunner().invoke(cli, ["plan", "--pages", "100", "--pilot", "1s"], prog_name="loadtool")
    assert out.exit_code == 3
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "internal error: ValueError: a bug in the pilot" in lines[0]
    assert "usage" not in out.stderr.lower()
    kept = list(tmp_path.glob("loadtool-error-*.txt"))
    assert len(kept) == 1 and "broken_pilot" in kept[0].read_text()


def test_two_outputs_naming_one_file_are_refused_before_the_run(loadtool_cli, tmp_path):
    same = str(tmp_path / "run.csv")
    out = loadtool_cli("fetch", "http://127.0.0.1:9/", "-n", "1", "--raw", same, "-o", same)
    assert out.exit_code == 2 and "--output and --raw both name" in out.stderr
    assert not (tmp_path / "run.csv").exists()


@pytest.mark.parametrize("args, says", [
    (("crawl", "--max-pages", "-1"), "--max-pages must be"),
    (("plan", "--pages", "1e30"), "--pages must be between 1 and"),
])
def test_numbers_out_of_range_name_the_option_typed(loadtool_cli, args, says):
    out = loadtool_cli(*args)
    assert out.exit_code == 2 and says in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_a_header_line_without_a_colon_in_a_request_file_is_refused(loadtool_cli, tmp_path):
    requests = tmp_path / "shop.http"
    requests.write_text("GET http://127.0.0.1:9/x\nBadHeader\n")
    out = loadtool_cli("fetch", "--targets", str(requests))
    assert out.exit_code == 2 and "line 2: not a header line (Name: value): 'BadHeader'" in out.stderr
