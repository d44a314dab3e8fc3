"""loadtool plan and per-host politeness, as a user runs them."""

import json
from dataclasses import replace

import pytest

from loadtool.plan import check, measured_from


@pytest.fixture(scope="module")
def uniform_plan(tmp_path_factory):
    """A plan whose pilot ran against the fixture site's uniform profile (50 ms a page), its
    answers uncompressed: the model is held to account here on a server that does not slow
    down under the pilot's load (sizing a saturating site is test_capacity's)."""
    from click.testing import CliRunner

    from loadtool.cli import cli

    from conftest import gate

    path = tmp_path_factory.mktemp("plan") / "plan.json"
    with gate(alone=True):  # the pilot measures the client's CPU: no other test at the same time
        out = CliRunner().invoke(cli, ["plan", "--pages", "1M", "--deadline", "1h", "--profile", "uniform",
                                       "--no-compression", "--pilot", "5s", "--format", "json", "-o", str(path)])
    assert out.exit_code == 0, out.output
    return json.loads(path.read_text())


def test_the_plan_sizes_every_way_and_states_its_assumptions(uniform_plan):
    assert uniform_plan["schema"] == "loadtool.plan/1"
    ways = {(o["strategy"], o["engine"]) for o in uniform_plan["options"]}
    assert {("sequential", "requests"), ("threads", "requests"), ("async", "aiohttp"), ("async", "fast")} <= ways
    measured = uniform_plan["measured"]
    assert measured["latency_mean_s"] == pytest.approx(0.05, rel=0.15)
    for option in uniform_plan["options"]:
        assert option["meets_deadline"] is True
        low, high = option["total_range_s"]
        assert low <= option["total_s"] <= high <= 3600 * 1.0001
    assert any("Little's law" in line for line in uniform_plan["assumptions"])


@pytest.mark.alone
@pytest.mark.parametrize("strategy, count, concurrency", [
    ("sequential", 40, 1), ("threads", 400, 20), ("async", 2000, 50)])
def test_the_plan_predicts_a_real_run_within_15_percent(uniform_plan, loadtool_cli, strategy, count, concurrency):
    result = loadtool_cli("fetch", "--profile", "uniform", "-s", strategy, "-n", str(count), "-c", str(concurrency),
                          "--no-compression", "--format", "json").json()
    checked = check(measured_from(uniform_plan), result)
    assert abs(checked.error) <= 0.15, (checked.predicted_s, checked.measured_s)


@pytest.mark.parametrize("times, verdict, code", [(1.0, "within the plan's range", 0),
                                                 (1.5, "outside the plan's range", 1),
                                                 (0.6, "outside the plan's range", 1)])
def test_plan_check_gives_the_verdict_and_exit_code_of_a_run_against_the_plan(uniform_plan, loadtool_cli, tmp_path,
                                                                                times, verdict, code):
    """A real run made into the plan's own job (its pages, at the concurrency the plan's table
    gives async with aiohttp), its wall time the table's total time, then half as long again
    and 40% shorter: in range (exit 0), then outside it on either side (exit 1, for a CI step)."""
    plan_path, result_path = tmp_path / "plan.json", tmp_path / "result.json"
    plan_path.write_text(json.dumps(uniform_plan))
    loadtool_cli("fetch", "--profile", "uniform", "-n", "200", "--format", "json", "-o", str(result_path), "-q")
    result = json.loads(result_path.read_text())
    row = next(o for o in uniform_plan["options"] if (o["strategy"], o["engine"]) == ("async", "aiohttp"))
    result.update(ops=1_000_000, concurrency=row["concurrency"], wall_s=row["total_s"] * times)
    result_path.write_text(json.dumps(result))
    out = loadtool_cli("plan", "--check", str(result_path), "--plan", str(plan_path))
    assert out.exit_code == code and verdict in out.stdout and "predicted" in out.stdout
    assert loadtool_cli("plan", "--check", str(result_path), "--plan", str(plan_path), "-q").stdout == ""


@pytest.mark.parametrize("args, says", [
    ([], "--pages"),
    (["--pages", "0"], "--pages"),
    (["--pages", "1M", "--deadline", "soon"], "duration"),
    (["--pages", "1M", "--pilot", "0s"], "--pilot"),
    (["--check", "r.json"], "--plan"),
])
def test_bad_plan_input_is_one_line_and_exit_2(loadtool_cli, args, says):
    out = loadtool_cli("plan", *args)
    assert out.exit_code == 2 and says in out.stderr and len(out.stderr.strip().splitlines()) == 1


STRATEGIES = ["sequential", "threads", "processes", "async", "hybrid"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_keeps_the_per_host_rate(loadtool_cli, server, strategy):
    # Odd operations all go to host 0: its 6 operations at 4/s need at least 1.25 s.
    result = loadtool_cli("fetch", "/site/{i}/page/1", "/site/0/page/2", "--server", server.base_url,
                          "-s", strategy, "-n", "12", "-c", "12", "--host-rate", "4/s", "--format", "json").json()
    assert result["ok"] == 12 and result["wall_s"] >= 1.25


@pytest.mark.parametrize("strategy", ["threads", "async", "hybrid"])
def test_every_strategy_keeps_the_per_host_concurrency(loadtool_cli, strategy):
    # One host, 40 pages of 50 ms each (the uniform profile): two at a time means 20 rounds.
    job = ["/site/7/page/{i}", "--profile", "uniform", "-s", strategy, "-n", "40", "-c", "40", "--format", "json"]
    free = loadtool_cli("fetch", *job).json()
    limited = loadtool_cli("fetch", *job, "--per-host", "2").json()
    assert free["ok"] == limited["ok"] == 40
    assert limited["wall_s"] >= 20 * 0.05
    assert free["wall_s"] < limited["wall_s"]


def test_politeness_with_the_fast_engine_is_refused(loadtool_cli):
    out = loadtool_cli("fetch", "-e", "fast", "--per-host", "2")
    assert out.exit_code == 2 and "--engine aiohttp" in out.stderr


@pytest.mark.parametrize("args", [["--per-host", "0"], ["--host-rate", "fast"], ["--host-rate", "0/s"]])
def test_bad_politeness_is_a_usage_error(loadtool_cli, args):
    assert loadtool_cli("fetch", *args).exit_code == 2


def rendered_at(width: int, renderable) -> list[str]:
    """``renderable`` as a terminal ``width`` columns wide shows it."""
    import io

    from rich.console import Console

    console = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    console.print(renderable)
    return console.file.getvalue().splitlines()


@pytest.mark.parametrize("deadline", [True, False])
def test_the_plan_fits_80_columns_and_cuts_no_cell(uniform_plan, deadline):
    from loadtool.report.plan import plan_table
    from loadtool.units import format_duration

    plan = {**uniform_plan, "goal": {**uniform_plan["goal"], **({} if deadline else {"deadline_s": None})}}
    lines = rendered_at(80, plan_table(plan, "loadtool plan · 1,000,000 pages"))
    assert max(map(len, lines)) <= 80 and not any("…" in line for line in lines), "\n".join(lines)
    table = "\n".join(lines)
    for option in uniform_plan["options"]:  # each way's numbers whole; the range whole or left out by name
        low, high = option["total_range_s"]
        assert f"{format_duration(option['total_s'])}" in table
        assert f"{format_duration(low)}–{format_duration(high)}" in table or "p10–p90" in table.split("in --format json")[0].splitlines()[-1]
        assert f"{option['throughput_per_s']:,.0f}" in table
    wide = "\n".join(rendered_at(200, plan_table(uniform_plan, "plan")))
    assert "memory" in wide and "deadline" in wide and "in --format json" not in wide


def _pilot_at_20ms(other):
    """A pilot's measurements of a site answering in 20 ms: ``other`` way, then threads
    (requests) at 2 ms of CPU a request, as the pilot's own leg measured it."""
    import loadtool.plan as plan
    from loadtool.strategies import get
    from loadtool.strategies.sizing import Way

    ways = (other, Way("threads", "requests", 0.002, None, get("threads").scale))
    return plan.Measured(latency_mean_s=0.02, latency_p10_s=0.01, latency_p50_s=0.02, latency_p90_s=0.03,
                         samples=1000, error_rate=0.0, spread=(0.9, 1.1), ways=ways, skipped=(), cores=2)


def test_threads_are_measured_again_at_the_concurrency_the_plan_gives_them(monkeypatch):
    """Threads' CPU per operation depends on how many contend for the GIL: the pilot runs the
    threads way at the concurrency planned from its first measure, and plans with what it
    measured there (the sequential way, one worker, is left as it was)."""
    from types import SimpleNamespace

    import loadtool.plan as plan
    from loadtool.strategies import get
    from loadtool.strategies.sizing import Goal, Way

    legs = []

    def leg(bound, progress, strategy, engine, **changes):
        legs.append((strategy, changes["concurrency"]))
        return SimpleNamespace(ops=1000, ok=1000, cpu_s=1.0, wall_s=1.0)  # 1 ms a request there

    monkeypatch.setattr(plan, "_phase", leg)
    measured = _pilot_at_20ms(Way("sequential", "requests", 0.002, None, get("sequential").scale))
    ways, goal = measured.ways, Goal(pages=100_000, cores=2)
    first = plan.options(replace(measured, ways=ways[1:]), goal)[0]
    refined = plan._refined(None, None, measured, goal)
    assert legs[0] == ("threads", first.concurrency) and all(strategy == "threads" for strategy, _ in legs)
    assert refined.ways[0] == ways[0] and refined.ways[1].cpu_per_op_s == pytest.approx(0.001)
    then = plan.options(refined, goal)[1]
    assert then.throughput_per_s == pytest.approx(2 * first.throughput_per_s, rel=0.05) and len(legs) <= 2
    assert plan._refined(None, None, measured, None) is measured  # no goal, nothing to aim at


def test_a_shared_interpreters_range_is_its_own_floor_widened_by_its_legs_and_kept_for_the_check(monkeypatch):
    """Threads' legs at the plan's concurrency ran 30% faster and 15% slower than the plan
    predicts for them (at their mean CPU, 1 ms a request): that way's range is ×0.85–×1.30 of
    its mean, past its floor of ×0.90–×1.20 (SHARED_SPREAD) where its legs went past it; the
    table's range and --check's are that way's own, stored with the plan; the other ways keep
    the pilot's ±10%. Legs that kept to the plan leave threads the floor."""
    from types import SimpleNamespace

    import loadtool.plan as plan
    from loadtool.strategies import get
    from loadtool.strategies.sizing import Goal, Way, predict_wall_s

    speeds = iter([1.3, 0.85, 1.0, 1.0])
    threads_at_1ms = Way("threads", "requests", 0.001, None, get("threads").scale)

    def leg(bound, progress, strategy, engine, **changes):
        predicted = predict_wall_s(1000, threads_at_1ms, changes["concurrency"], 0.02, 2)
        return SimpleNamespace(ops=1000, ok=1000, cpu_s=1.0, wall_s=predicted / next(speeds))

    monkeypatch.setattr(plan, "_phase", leg)
    measured = _pilot_at_20ms(Way("async", "fast", 0.0002, None, get("async").scale))
    goal = Goal(pages=100_000, cores=2)
    refined = plan._refined(None, None, measured, goal)
    assert refined.ways[0].spread is None and refined.ways[1].cpu_per_op_s == pytest.approx(0.001)
    assert refined.ways[1].spread == pytest.approx((0.85, 1.3))
    fast, threads = plan.options(refined, goal)
    assert fast.total_range_s == pytest.approx((fast.total_s / 1.1, fast.total_s / 0.9))
    assert threads.total_range_s == pytest.approx((threads.total_s / 1.3, threads.total_s / 0.85))
    assert any(line.startswith("Threads: its range is its own (×0.85–×1.30 of the mean)") and "at least ×0.90–×1.20"
               in line for line in plan.assumptions(refined, goal))
    stored = plan.measured_from(plan.to_dict(refined, goal, [fast, threads]))
    assert stored.ways == refined.ways
    run = {"schema": "loadtool.result/1", "strategy": "threads", "job": {"engine": "requests"}, "ops": 10_000,
           "concurrency": threads.concurrency, "wall_s": 10.0}
    verdict = plan.check(stored, run)
    assert verdict.range_s == pytest.approx((verdict.predicted_s / 1.3, verdict.predicted_s / 0.85))
    assert plan._refined(None, None, measured, goal).ways[1].spread == pytest.approx((0.9, 1.2))  # legs on plan
    # A site that serves 100 pages a second to the pilot's one host, a job over ten hosts: the
    # legs, on the pilot's host, ran at the site's 100/s, as the plan predicts for them there.
    capped = replace(measured, capacity={"per_s": 100.0}, pilot_hosts=1)
    monkeypatch.setattr(plan, "_phase", lambda *args, **changes: SimpleNamespace(ops=1000, ok=1000, cpu_s=1.0,
                                                                                 wall_s=10.0))
    assert plan._refined(None, None, capped, replace(goal, hosts=10)).ways[1].spread == pytest.approx((0.9, 1.2))
    steady = replace(refined, ways=(refined.ways[0], replace(refined.ways[1], spread=(0.9, 1.1))))
    assert not any(line.startswith("Threads:") for line in plan.assumptions(steady, goal))  # the pilot's: unsaid


def test_a_way_with_nothing_done_in_its_leg_is_run_longer_before_it_is_left_out(monkeypatch):
    """A pool of processes still starting finished nothing in half a second ("Not planned:
    processes: no operation finished within 0.5s", two plans in three): once more, longer."""
    from types import SimpleNamespace

    import loadtool.plan as plan

    legs = []

    def leg(bound, progress, strategy, engine, **changes):
        legs.append(changes["duration_s"])
        return SimpleNamespace(ops=len(legs) - 1, cpu_s=0.01, memory_per_worker_bytes=1)

    monkeypatch.setattr(plan, "_phase", leg)
    way = plan._way_measured(None, None, "processes", "requests", 0.5, 0.01)
    assert legs == [0.5, 0.5 * plan.LONGER_LEG] and way.cpu_per_op_s == pytest.approx(0.01)
    legs.clear()
    monkeypatch.setattr(plan, "_phase", lambda *args, **changes: legs.append(1) or SimpleNamespace(ops=0))
    assert plan._way_measured(None, None, "processes", "requests", 0.5, 0.01) == "no operation finished within 2.0s"


def test_a_ways_leg_lasts_long_enough_for_its_operations_to_outweigh_its_start(monkeypatch):
    """Sequential for half a second against 50 ms pages is 9 pages, whose session and first
    connection then weigh like pages: its leg lasts for LEG_OPS of them."""
    from types import SimpleNamespace

    import loadtool.plan as plan

    legs = []
    monkeypatch.setattr(plan, "_phase", lambda *args, **changes: legs.append(changes["duration_s"]) or SimpleNamespace(
        ops=10, cpu_s=0.01, memory_per_worker_bytes=1))
    plan._way_measured(None, None, "sequential", "requests", 0.5, 0.05)
    plan._way_measured(None, None, "threads", "requests", 0.5, 0.05)
    assert legs == [pytest.approx(plan.LEG_OPS * 0.05), 0.5]  # threads: 10 at once, half a second is enough


def test_a_verdict_on_a_terminal_breaks_between_words(uniform_plan, loadtool_cli, tmp_path):
    """At 80 columns the verdict is two lines broken between words, not cut inside one."""
    from terminal import on_a_terminal

    plan_path, result_path = tmp_path / "plan.json", tmp_path / "result.json"
    plan_path.write_text(json.dumps(uniform_plan))
    loadtool_cli("fetch", "--profile", "uniform", "-n", "50", "--format", "json", "-o", str(result_path), "-q")
    _, final, code = on_a_terminal(["plan", "--check", str(result_path), "--plan", str(plan_path)])
    lines = [line.rstrip() for line in final.splitlines() if line.strip()]
    assert code in (0, 1) and len(lines) == 2 and lines[1].startswith("  ") and max(map(len, lines)) <= 80
    words = " ".join(lines).split()
    assert "predicted" in words and "measured" in words and words[-1] == "range"


def _crawl_leg(per_second, wall_s):
    from types import SimpleNamespace

    rows = [{"second": second, "ops": ops} for second, ops in enumerate(per_second)]
    series = SimpleNamespace(rows=lambda: rows)
    return SimpleNamespace(stats=SimpleNamespace(series=series), wall_s=wall_s, ops=sum(per_second),
                           throughput_ops_s=sum(per_second) / wall_s)


def test_a_crawls_steady_pace_is_its_whole_middle_seconds_and_a_pause_in_one_does_not_move_it():
    """The first second meets the hosts, the last only waits out the pages in flight: the
    steady pace is the median of the seconds between, so a second the machine paused in
    (300 pages) leaves it where the others put it; the start costs the share of a steady
    second the first one missed."""
    from loadtool.plan import _start_s, _steady_rate

    leg = _crawl_leg([450, 600, 300, 610, 50], 4.1)
    assert _steady_rate(leg) == 600
    assert _start_s(leg) == pytest.approx(1 - 450 / 600)
    short = _crawl_leg([400, 90], 1.2)  # no whole second between the first and the drain
    assert _steady_rate(short) == pytest.approx(490 / 1.2)
    assert _start_s(short) == 0.0
    dry = _crawl_leg([300, 0, 0, 0], 3.5)  # the frontier ran dry after the first second
    assert _steady_rate(dry) == 0 and _start_s(dry) == 0.0


def test_politeness_used_is_the_steady_pace_over_what_the_hosts_slots_allow():
    """40 hosts, 2 pages at a time each, 50 ms a page: 1,600 a second allowed; 600 kept is
    0.375. A busy client, or a crawl that ran dry, says nothing of politeness: 1."""
    from types import SimpleNamespace

    from loadtool.plan import _politeness_used

    job = SimpleNamespace(polite=True, fetch=SimpleNamespace(per_host=2, host_rate=None))
    leg = _crawl_leg([450, 600, 300, 610, 50], 4.1)
    for run, busy, used in ((leg, 0.5, 0.375), (leg, 0.95, 1.0), (_crawl_leg([300, 0, 0, 0], 3.5), 0.5, 1.0)):
        run.cpu_busy, run.details = busy, {"crawl": {"hosts": 40}}
        assert _politeness_used(job, run, 0.05) == pytest.approx(used)


def test_a_crawls_start_is_added_to_the_time_the_plan_and_its_check_predict(uniform_plan):
    from loadtool.strategies.sizing import Goal, plan_option

    measured = measured_from(uniform_plan)
    way = measured.ways[0]
    flat, started = (plan_option(way, Goal(pages=10_000, start_s=start), measured.latency_mean_s)
                     for start in (0.0, 0.25))
    assert started.total_s == pytest.approx(flat.total_s + 0.25)
    run = {"schema": "loadtool.result/1", "strategy": way.strategy, "job": {"engine": way.engine}, "ops": 1000,
           "concurrency": 50, "wall_s": 2.0}
    crawled = replace(measured, crawl={"start_s": 0.25})
    assert check(crawled, run).predicted_s == pytest.approx(check(measured, run).predicted_s + 0.25)
