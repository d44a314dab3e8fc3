"""Memory is part of correctness: peak RSS must not grow with the number of operations.

Each run's peak is measured from outside it (``system.run_measuring_peak``: a small launcher
reads it from the kernel as the run is reaped), never by the run itself: on Linux an exec'd
child's own ru_maxrss starts at its parent's, and this test's parent is pytest.
"""

import sys

import pytest

from loadtool.system import run_measuring_peak

#: How much more the larger run may peak at: 3 MiB, over 10,000 more operations (9,000 for
#: requests in threads, which does 1,700 a second here), so anything kept per operation that
#: costs 310 (340) bytes or more shows: one Sample with its phases and operation is about 400.
GROWTH_KIB = 3 * 1024


def peak_kib(server, count: int, *args: str) -> int:
    code, _, err, peak = run_measuring_peak([sys.executable, "-m", "loadtool", "fetch", "/bytes/16", "--server",
                                             server.base_url, "-n", str(count), "-c", "50", "-q", "--no-progress",
                                             *args], timeout_s=240)
    assert code == 0, err
    return peak


@pytest.mark.parametrize("counts, args", [((2_000, 12_000), ("-e", "aiohttp")), ((2_000, 12_000), ("-e", "fast")),
                                          ((2_000, 12_000), ("-e", "curl")),
                                          ((2_000, 12_000), ("-e", "fast", "--raw", "RAW")),
                                          ((1_000, 10_000), ("-s", "threads"))],
                         ids=["aiohttp", "fast", "curl", "fast-raw", "threads"])
def test_peak_memory_is_flat_in_count(server, tmp_path, counts, args):
    args = tuple(str(tmp_path / "ops.csv") if arg == "RAW" else arg for arg in args)
    (few, many), raw = counts, "--raw" in args
    small, large = peak_kib(server, few, *args), peak_kib(server, many, *args)
    assert large - small <= GROWTH_KIB, f"peak RSS {small} KiB at {few:,} ops, {large} KiB at {many:,}"
    if raw:
        with open(args[-1], encoding="utf-8") as written:
            assert sum(1 for _ in written) == many + 1  # every record, and the header


def test_the_launcher_reads_the_childs_own_peak_not_its_parents():
    """The yardstick itself: a parent grown by 200 MB does not make a small child look big,
    and a child that grows by 100 MB is seen to."""
    ballast = bytearray(200 * 2**20)
    ballast[::4096] = b"x" * len(ballast[::4096])  # touched, so resident
    _, _, _, small = run_measuring_peak([sys.executable, "-c", "pass"], timeout_s=60)
    grow = "b = bytearray(100 * 2**20); b[::4096] = b'x' * len(b[::4096])"
    _, _, _, grown = run_measuring_peak([sys.executable, "-c", grow], timeout_s=60)
    assert small < 100 * 1024 and grown - small >= 90 * 1024, (small, grown)
    del ballast


def test_an_operation_of_the_users_own_runs_a_hundred_times_more_in_flat_memory():
    """2,000 and 200,000 no-op async operations: loadtool keeps nothing per operation (a timer
    each for its deadline held 130 MB at 200,000 under uvloop)."""
    from pathlib import Path

    spec = f"{Path(__file__).resolve().parent / 'operations.py'}:noop"
    peaks = []
    for count in (2_000, 200_000):
        code, _, err, peak = run_measuring_peak([sys.executable, "-m", "loadtool", "run", spec, "-n", str(count), "-q",
                                                 "--no-progress"], timeout_s=240)
        assert code == 0, err
        peaks.append(peak)
    assert peaks[1] <= 1.25 * peaks[0], peaks


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's peak is Linux's")
def test_a_runs_peak_memory_is_its_own_even_a_peak_no_sampling_thread_saw():
    """The report's peak memory is the kernel's, reset when the run starts: a 64 MB buffer
    that came and went between two samples counts; an earlier run's peak does not."""
    from loadtool.system import MemoryWatch

    before = bytearray(96 << 20)
    before[::4096] = b"x" * len(before[::4096])  # touched: resident
    del before
    watch = MemoryWatch(every_s=3600)  # a thread, were there one, would never sample
    buffer = bytearray(64 << 20)
    buffer[::4096] = b"x" * len(buffer[::4096])
    del buffer
    start, peak = watch.stop()
    assert peak - start >= 60 << 20
    assert peak - start < 90 << 20  # not the 96 MB before the watch began
