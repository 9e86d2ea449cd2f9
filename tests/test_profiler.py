"""ember.autograd.profiler and ember.profiler: what is recorded (ops, backward nodes, leaf
accumulation, record_function ranges, nesting and self time), PyTorch's table layout for the
same events, schedules, and that nothing stays patched after a profile."""

import json

import pytest
from torch.autograd import profiler_util as torch_profiler_util

import ember
from ember.autograd import profiler
from ember.autograd.function import AccumulateGrad, BackwardNode, Function
from ember.profiler import ProfilerAction, ProfilerActivity, profile, record_function, schedule


def keys(prof):
    return [event.key for event in prof.key_averages()]


def test_records_forward_backward_and_ranges():
    x = ember.randn(4, 5, requires_grad=True)
    w = ember.randn(5, 3)
    with profiler.profile() as prof:
        with profiler.record_function("forward"):
            loss = (x @ w).relu().sum()
        loss.backward()
    assert keys(prof) == ["forward", "Mm", "Relu", "Sum", "SumBackward0", "ReluBackward0",
                          "MmBackward0", "torch::autograd::AccumulateGrad"]
    events = {event.name: event for event in prof.function_events}
    block = events["forward"]
    inside = [e for e in prof.function_events if e.name in ("Mm", "Relu", "Sum")]
    assert all(block.start_us <= e.start_us and e.end_us <= block.end_us for e in inside)
    children = sum(e.cpu_time_total for e in inside)
    assert block.self_cpu_time_total == pytest.approx(block.cpu_time_total - children, abs=1e-3)
    assert prof.self_cpu_time_total == pytest.approx(
        sum(e.self_cpu_time_total for e in prof.function_events))


def test_counts_and_input_shapes():
    x = ember.ones(2, 3)
    with profiler.profile(record_shapes=True) as prof:
        for _ in range(3):
            x * 2
        ember.ones(4) * ember.ones(4)
    (mul,) = prof.key_averages()
    assert mul.key == "Mul" and mul.count == 4
    assert mul.cpu_time == pytest.approx(mul.cpu_time_total / 4)
    grouped = prof.key_averages(group_by_input_shape=True)
    assert [(e.key, e.count, e.input_shapes) for e in grouped] == [
        ("Mul", 3, [[2, 3], []]), ("Mul", 1, [[4], [4]])]


def test_user_function_and_its_inner_ops():
    class Double(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = ember.ones(3, requires_grad=True)
    with profiler.profile() as prof:
        Double.apply(x).sum().backward()
    assert keys(prof) == ["Double", "Mul", "Sum", "SumBackward0", "DoubleBackward",
                          "torch::autograd::AccumulateGrad"]


def test_nothing_patched_outside_a_profile_and_no_recording_without_one():
    plain = (Function.__dict__["apply"], BackwardNode.__dict__["apply"],
             AccumulateGrad.__dict__["accumulate"])
    with profiler.profile() as outer:
        with profiler.profile() as inner:
            ember.ones(2).exp()
        ember.ones(2).log()
        assert Function.__dict__["apply"] is not plain[0]
    assert (Function.__dict__["apply"], BackwardNode.__dict__["apply"],
            AccumulateGrad.__dict__["accumulate"]) == plain
    assert keys(inner) == ["Exp"] and keys(outer) == ["Exp", "Log"]
    with profiler.record_function("idle"):  # no profile running: records nothing, no error
        ember.ones(2).exp()
    with profiler.profile(enabled=False) as off:
        ember.ones(2).exp()
    assert Function.__dict__["apply"] is plain[0]
    with pytest.raises(RuntimeError, match="Profiler didn't finish running"):
        off.key_averages()


def test_exception_inside_an_op_keeps_the_stack_right():
    with profiler.profile() as prof:
        with pytest.raises(RuntimeError):
            ember.ones(2, 3) @ ember.ones(2, 3)
        ember.ones(2).exp()
    assert keys(prof) == ["Mm", "Exp"]


def test_record_function_as_decorator():
    @record_function("helper")
    def helper(x):
        return x.exp()

    with profiler.profile() as prof:
        helper(ember.ones(2))
    assert keys(prof) == ["helper", "Exp"]


def make_events(module):
    """The same three events (a range holding two calls of one op) in ember's or PyTorch's
    classes."""
    spans = [(1, "block", 0.0, 100.0, []), (2, "Mm", 10.0, 40.0, [[2, 3], [3, 4]]),
             (3, "Mm", 50.0, 70.5, [[2, 3], [3, 4]]), (4, "a_rather_long_name" * 4, 80.0,
                                                       81.25, [[7]])]
    if module is torch_profiler_util:
        events = torch_profiler_util.EventList([
            torch_profiler_util.FunctionEvent(i, name, 1, start, end, input_shapes=shapes,
                                              stack=[])
            for i, name, start, end, shapes in spans])
        events._build_tree()
        return events
    block_self = 100.0 - 30.0 - 20.5 - 1.25
    return profiler.EventList([
        profiler.FunctionEvent(i, name, 1, start, end,
                               block_self if name == "block" else end - start, shapes)
        for i, name, start, end, shapes in spans])


@pytest.mark.parametrize("render", [
    lambda events: events.key_averages().table(sort_by="self_cpu_time_total"),
    lambda events: events.key_averages().table(sort_by="cpu_time_total", row_limit=2),
    lambda events: events.key_averages().table(sort_by="count", max_name_column_width=20),
    lambda events: events.key_averages(True).table(),
    lambda events: events.table(),
    lambda events: events.key_averages().table(time_unit="ms"),
])
def test_table_is_pytorchs(render):
    assert render(make_events(profiler)) == render(make_events(torch_profiler_util))


def test_chrome_trace(tmp_path):
    with profiler.profile() as prof:
        ember.ones(2).exp()
    path = str(tmp_path / "trace.json")
    prof.export_chrome_trace(path)
    (event,) = json.load(open(path))["traceEvents"]
    assert event["name"] == "Exp" and event["ph"] == "X" and event["dur"] >= 0


def test_schedule_matches_torch():
    import torch.profiler as tp
    for kwargs in [dict(wait=1, warmup=1, active=2), dict(wait=0, warmup=2, active=1, repeat=2),
                   dict(wait=2, warmup=1, active=1, skip_first=3),
                   dict(wait=2, warmup=1, active=2, skip_first_wait=1)]:
        ours, theirs = schedule(**kwargs), tp.schedule(**kwargs)
        assert [ours(s).name for s in range(14)] == [theirs(s).name for s in range(14)]
    with pytest.raises(AssertionError, match="Invalid profiler schedule arguments"):
        schedule(wait=0, warmup=1, active=0)


def test_profile_with_schedule_saves_each_cycle():
    saved = []
    prof = profile(activities=[ProfilerActivity.CPU],
                   schedule=schedule(wait=1, warmup=1, active=2, repeat=2),
                   on_trace_ready=lambda p: saved.append((p.step_num, keys(p),
                                                          p.key_averages()[0].count)))
    with prof:
        for step in range(10):
            ember.ones(2) * step
            prof.step()
    # Steps 2-3 and 6-7 are recorded; each cycle is handed over when its last step ends.
    assert saved == [(4, ["Mul"], 2), (8, ["Mul"], 2)]
    assert prof.current_action == ProfilerAction.NONE


def test_profile_without_schedule_records_everything():
    saved = []
    with profile(on_trace_ready=saved.append) as prof:
        ember.ones(2).exp()
        prof.step()
        ember.ones(2).log()
    assert saved == [prof] and keys(prof) == ["Exp", "Log"]
    assert ember.profiler.record_function is profiler.record_function


def test_import_ember_loads_neither_profiler_nor_autograd_functional():
    # They load on first use (ember.profiler, ember.autograd.profiler/.functional), so
    # importing ember does not pay for them.
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = ("import sys, ember\n"
            "lazy = ['ember.profiler', 'ember.autograd.profiler', 'ember.autograd.functional',\n"
            "        'ember.utils.tensorboard', 'ember.vision.io']\n"
            "print([name for name in lazy if name in sys.modules])\n"
            "print(ember.profiler.profile.__module__, ember.autograd.functional.__name__)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "PYTHONPATH": root})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "ember.profiler ember.autograd.functional"]
