"""Small facts about and adjustments to the machine loadtool runs on, and how its process ends."""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from collections.abc import Callable

#: Set when a run abandoned operations (after an interruption, or at the end of --duration):
#: threads still blocked in them would hold a normal exit until their --timeout, so the
#: command line exits at once (``exit_now``) once the report is out.
LEFT_BEHIND = threading.Event()
_AT_EXIT: list[Callable[[], None]] = []


def at_exit(callback: Callable[[], None]) -> None:
    """Call ``callback`` when this process ends, normally (atexit) or at once (``exit_now``,
    which skips atexit): stop helper processes, remove temporary files. Registered once."""
    atexit.unregister(callback)
    atexit.register(callback)
    if callback not in _AT_EXIT:
        _AT_EXIT.append(callback)


def exit_now(code: int) -> None:
    """End the process at once with ``code``, after what ``at_exit`` registered: its report is
    out, and threads blocked past the grace period (or a broken pool's leftovers, which would
    print their own failures) must not hold the exit."""
    for callback in _AT_EXIT:
        try:
            callback()
        except Exception:  # noqa: BLE001 - a clean-up that fails must not keep the process alive
            pass
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def event_loop_factory() -> Callable:
    """uvloop's loop when it is installed (2-4x less CPU per request), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        import asyncio

        return asyncio.new_event_loop
    return uvloop.new_event_loop


def raise_open_files_limit(wanted: int) -> int:
    """Raise the soft limit on open files towards ``wanted`` (as ``ulimit -n`` would).

    A run at concurrency 1000 needs 1000 sockets, more than the common soft limit of
    1024. Returns the limit in force afterwards.
    """
    try:
        import resource
    except ImportError:  # not on POSIX
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return soft
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return soft
    return target


def open_files_needed(concurrency: int) -> int:
    """File descriptors a run at ``concurrency`` may hold: a socket (or file) each, and some."""
    return concurrency * 2 + 256


def out_of_descriptors(margin: int = 8) -> bool:
    """Whether this process holds (nearly) as many file descriptors as its limit allows: why a
    socket could not be made, where a library (libcurl) does not keep the errno (EMFILE)."""
    import errno

    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        return len(os.listdir("/proc/self/fd")) >= soft - margin
    except OSError as exc:
        return exc.errno in (errno.EMFILE, errno.ENFILE)  # not even one to look with
    except ImportError:
        return False


def open_files_short(concurrency: int) -> tuple[int, int] | None:
    """(the limit, what ``concurrency`` needs) when the open-files limit is below the need even
    after raising the soft limit as far as the hard one allows; else None."""
    needed = open_files_needed(concurrency)
    limit = raise_open_files_limit(needed)
    return (limit, needed) if limit < needed else None


def cpu_count() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent exits (no orphans if the parent is
    killed outright); elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


PR_SET_PDEATHSIG = 1


def die_with(owner: int) -> None:
    """SIGKILL this process as soon as process ``owner`` has ended, from a thread that waits on
    it (Linux's pidfd; elsewhere it looks every 0.2 s)."""
    import select
    import threading
    import time

    def watch() -> None:
        try:
            select.select([os.pidfd_open(owner)], [], [])
        except (AttributeError, OSError):  # no pidfd here, or the owner has gone already
            while True:
                try:
                    os.kill(owner, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    pass
                time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="loadtool-die-with", daemon=True).start()


def become_worker(owner: int) -> None:
    """Make this process one of loadtool's workers: Ctrl-C and SIGTERM reach every process of a
    terminal's (or systemd's) group, but the run decides what they mean and tells its workers;
    and the worker ends as soon as loadtool (``owner``) does. Its parent is multiprocessing's
    fork server, which outlives loadtool while any worker holds its pipe open: dying with the
    parent alone, workers and fork server kept each other alive after loadtool was killed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    die_with_parent()
    die_with(owner)


def rss_bytes() -> int | None:
    """This process's resident memory now (Linux), else None."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_bytes() -> int:
    """This process's peak resident memory so far."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


#: Run as ``python -c PEAK_LAUNCHER COMMAND...``: runs COMMAND (its output passes through) and
#: says last, on stderr, its peak resident memory as the kernel counted it when it was reaped.
PEAK_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"\\npeak-rss-kib {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}\\n")
"""


def run_measuring_peak(argv: list[str], timeout_s: float, **options) -> tuple[int, str, str, int]:
    """Run ``argv`` and measure its peak resident memory from outside it: (exit code, stdout,
    stderr, peak KiB — the largest of the command and the processes it waited for).

    A process's own ``ru_maxrss`` cannot say: on Linux an exec'd child's peak starts at its
    parent's at fork (a pytest grown to 300 MB made every child report 300 MB). So the
    command is started by a launcher that stays small (a bare interpreter, ~10 MB) and
    reads the command's peak from ``wait4`` as the kernel reaps it."""
    import subprocess

    run = subprocess.run([sys.executable, "-c", PEAK_LAUNCHER, *argv], capture_output=True, text=True,
                         timeout=timeout_s, **options)
    stderr, _, last = run.stderr.rstrip("\n").rpartition("\n")
    _, peak_kib, code = last.split()
    return int(code), run.stdout, stderr, int(peak_kib)


def _reset_peak() -> bool:
    """Set the kernel's peak of this process's resident memory (VmHWM) to what it is now
    (Linux 4.0 and later); False where it cannot be."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _kernel_peak() -> int | None:
    """The kernel's peak of this process's resident memory (VmHWM), in bytes; None if unknown."""
    try:
        with open("/proc/self/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


class MemoryWatch:
    """The peak resident memory of this process during a run.

    On Linux the kernel keeps it: its peak is set to the present size when the watch starts
    and read when it stops — exact, and no thread (one sampling 20 times a second cost the
    aiohttp engine 1% of its requests a second, in the wake-ups it took from the event
    loop's thread). Elsewhere, or where the peak cannot be reset, a thread samples the
    resident memory every ``every_s``. (``ru_maxrss`` would not do: it never goes down, so in
    a process that runs several jobs, as compare and plan do, one run's peak would carry
    into the next. Two runs at once in one process would share the kernel's peak.)
    """

    def __init__(self, every_s: float = 0.05) -> None:
        import threading

        self.start = rss_bytes()
        self.peak = self.start
        self._every_s = every_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="loadtool-memory", daemon=True)
        #: Whether the kernel keeps the peak (no thread samples it).
        self._kernel = self.start is not None and _reset_peak() and _kernel_peak() is not None
        if self.start is not None and not self._kernel:
            self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(self._every_s):
            now = rss_bytes()
            if now is not None and now > self.peak:
                self.peak = now

    def stop(self) -> tuple[int | None, int | None]:
        """(resident memory at the start, peak since) in bytes."""
        if self._kernel:
            self.peak = max(self.peak, _kernel_peak() or 0)
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()
            now = rss_bytes()
            self.peak = max(self.peak, now or 0)
        return self.start, self.peak
