"""``ember.compile``'s replay of kernel calls: ops whose forward or backward is one compiled
kernel are replayed as that call (into buffers the plan owns), the program runs in C
(``ember/_C/replay.c``) or in its Python twin, and both give the eager step's bits. What the
buffers imply is checked too: a returned loss keeps its value after the next call, ``.grad``
is a new array at each step as in eager, and the guards that keep kernel calls valid
(strides, ember's thread count) capture again. Under ``EMBER_NO_EXTENSION=1`` the same tests
run the Python loop, without kernel entries."""

import collections
import importlib
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nets import tutorial_net
from test_compile import assert_same_parameters, batches, training_step, twin_models

import ember
from ember import _C

compile_module = importlib.import_module("ember.compile")
pytestmark = pytest.mark.filterwarnings("error")  # no fallback to eager unless expected
STEPS = 20


def mlp():
    return ember.nn.Sequential(ember.nn.Linear(10, 32), ember.nn.ReLU(), ember.nn.Linear(32, 1))


WORKLOADS = {
    # name: (model, optimizer, loss, batch shape, classes)
    "mlp": (mlp, lambda m: ember.optim.SGD(m.parameters(), lr=0.01), ember.nn.MSELoss(),
            (8, 10), None),
    "tutorial b1": (lambda: tutorial_net(ember),
                    lambda m: ember.optim.SGD(m.parameters(), lr=0.01, momentum=0.9),
                    ember.nn.CrossEntropyLoss(), (1, 1, 32, 32), 10),
}


def kernel_entries(step) -> int:
    """How many entries of ``step``'s only plan are kernel calls."""
    plan, = step._plans.values()
    return sum(type(entry) is tuple for entry, _ in plan.program)


def state_arrays(optimizer) -> list:
    return [np.array(value._data) for state in optimizer.state.values()
            for value in state.values() if isinstance(value, ember.Tensor)]


def use_loop(loop: str, monkeypatch) -> None:
    """Replays through the C loop and guards (the default where the extension is built) or,
    monkeypatched, their Python twins."""
    if loop == "python":
        monkeypatch.setattr(compile_module, "_run", compile_module._run_program)
        monkeypatch.setattr(compile_module, "_holds", compile_module._holds_python)
    elif _C.kernels is None:
        pytest.skip("the C loop needs the extension")
    else:  # the C loop and guards are the default
        assert compile_module._run is _C.kernels.replay
        assert compile_module._holds is _C.kernels.replay_holds


@pytest.mark.parametrize("loop", ["c", "python"])
@pytest.mark.parametrize("name", list(WORKLOADS))
def test_replay_is_bitwise_the_eager_step(name, loop, monkeypatch):
    """20 steps eager and compiled: losses, weights, gradients and optimizer state equal bit
    for bit after every step; the plan replays kernel calls wherever the extension is built,
    through the C loop or (monkeypatched) the Python one."""
    make, make_optimizer, criterion, shape, classes = WORKLOADS[name]
    use_loop(loop, monkeypatch)
    eager_model, compiled_model = twin_models(make)
    eager_optimizer, compiled_optimizer = make_optimizer(eager_model), make_optimizer(
        compiled_model)
    eager = training_step(eager_model, eager_optimizer, criterion)
    compiled = ember.compile(training_step(compiled_model, compiled_optimizer, criterion))
    for x, y in batches(shape, classes=classes):
        x, y = ember.tensor(x), ember.tensor(y)
        assert compiled(x, y).item() == eager(x, y).item()
        assert_same_parameters(eager_model, compiled_model)
        for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
            assert p.grad.stride() == q.grad.stride()
        for a, b in zip(state_arrays(eager_optimizer), state_arrays(compiled_optimizer)):
            np.testing.assert_array_equal(a, b)
    assert len(compiled._plans) == 1
    gemm = _C.kernels is not None and _C.gemm_ready()
    # MLP: two linear forwards and backwards, ReLU's and MSE's; the tutorial net: its three
    # linear layers and their ReLUs, each way.
    expected = {"mlp": 8, "tutorial b1": 10}[name] if gemm else 0
    assert kernel_entries(compiled) >= expected


def test_returned_loss_and_gradients_survive_the_next_call():
    """Kernel buffers are the plan's, reused by every replay: what the step returns and the
    ``.grad`` it leaves are copies out of them, new at each call, as eager's are."""
    eager_model, compiled_model = twin_models(mlp)
    eager = training_step(eager_model, ember.optim.SGD(eager_model.parameters(), lr=0.01),
                          ember.nn.MSELoss())
    compiled = ember.compile(training_step(
        compiled_model, ember.optim.SGD(compiled_model.parameters(), lr=0.01),
        ember.nn.MSELoss()))
    eager_losses, compiled_losses, eager_grads, compiled_grads = [], [], [], []
    for x, y in batches((8, 10), count=6):
        x, y = ember.tensor(x), ember.tensor(y)
        eager_losses.append(eager(x, y))
        compiled_losses.append(compiled(x, y))
        eager_grads.append([p.grad for p in eager_model.parameters()])
        compiled_grads.append([p.grad for p in compiled_model.parameters()])
    # Read only now, after all the calls: the captured call's loss and the replays' kept theirs.
    assert [t.item() for t in compiled_losses] == [t.item() for t in eager_losses]
    assert len({id(t._data) for t in compiled_losses}) == len(compiled_losses)
    for eager_step, compiled_step in zip(eager_grads, compiled_grads):
        for p, q in zip(eager_step, compiled_step):
            np.testing.assert_array_equal(p.numpy(), q.numpy())
    for grads in zip(*compiled_grads):  # each step's gradient is an array of its own
        assert len({id(g._data) for g in grads}) == len(grads)


def test_gradient_accumulation_into_grad_of_kernel_results():
    """``zero_grad(set_to_none=False)`` and two backward passes per step: ``.grad`` is added
    to in place, never aliased to a kernel buffer (which would count gradients twice)."""
    eager_model, compiled_model = twin_models(mlp)

    def make(model):
        optimizer = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)

        def step(x, y):
            optimizer.zero_grad(set_to_none=False)
            ember.nn.functional.mse_loss(model(x), y).backward()
            loss = ember.nn.functional.mse_loss(model(x * 2), y)
            loss.backward()
            optimizer.step()
            return loss
        return step
    eager, compiled = make(eager_model), ember.compile(make(compiled_model))
    for x, y in batches((8, 10), count=6):
        x, y = ember.tensor(x), ember.tensor(y)
        assert compiled(x, y).item() == eager(x, y).item()
        for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    assert_same_parameters(eager_model, compiled_model)


@pytest.mark.parametrize("loop", ["c", "python"])
def test_layouts_and_thread_count_are_guarded(loop, monkeypatch):
    """A kernel call reads its arrays as the capture saw them laid out: an input or a weight
    with other strides (same shape) captures again, and so does a new thread count (which
    decides whether a product is split); the numbers stay the eager step's. The same through
    the C guards and their Python twin."""
    use_loop(loop, monkeypatch)
    eager_model, compiled_model = twin_models(mlp)
    eager = training_step(eager_model, ember.optim.SGD(eager_model.parameters(), lr=0.01),
                          ember.nn.MSELoss())
    compiled = ember.compile(training_step(
        compiled_model, ember.optim.SGD(compiled_model.parameters(), lr=0.01),
        ember.nn.MSELoss()))
    (x, y), (x2, y2) = batches((8, 10), count=2)
    wide = np.zeros((8, 20), np.float32)
    wide[:, ::2] = x2
    inputs = [(ember.tensor(x), ember.tensor(y)),
              (ember.tensor(wide)[:, ::2], ember.tensor(y2)),  # a strided view
              (ember.tensor(x), ember.tensor(y))]
    for x, y in inputs:
        assert compiled(x, y).item() == eager(x, y).item()
    assert len(compiled._plans) == 2
    for model in (eager_model, compiled_model):  # the first weight, Fortran-ordered
        weight = model[0].weight
        weight.data = ember.tensor(np.asfortranarray(weight.detach().numpy()))
    assert compiled(*inputs[0]).item() == eager(*inputs[0]).item()
    assert compiled._captures == 3  # the Fortran-ordered weight
    threads = ember.get_num_threads()
    guarded = _C.kernels is not None  # a plan without kernel entries does not guard it
    try:
        ember.set_num_threads(threads + 1)
        assert compiled(*inputs[0]).item() == eager(*inputs[0]).item()
        assert compiled._captures == (4 if guarded else 3)
    finally:
        ember.set_num_threads(threads)
    assert compiled(*inputs[0]).item() == eager(*inputs[0]).item()
    # Its own thread count again: the latest capture's plan (the key is the same).
    assert compiled._captures == (5 if guarded else 3)
    assert_same_parameters(eager_model, compiled_model)


def guard_cases():
    """A captured MLP step's plan, and changes to what its guards watch, each with whether
    the plan still holds after it (each change undone before the next)."""
    ember.manual_seed(0)
    model = mlp()
    compiled = ember.compile(training_step(
        model, ember.optim.SGD(model.parameters(), lr=0.01), ember.nn.MSELoss()))
    (x, y), = batches((8, 10), count=1)
    compiled(ember.tensor(x), ember.tensor(y))
    plan, = compiled._plans.values()
    first, last = model[0], model[2]
    weight = first.weight

    def swap(owner, name, value):
        def change():
            saved = getattr(owner, name)
            setattr(owner, name, value)
            return lambda: setattr(owner, name, saved)
        return change

    def entry(members, name, value):
        def change():
            saved = members.get(name, members)
            if value is members:
                del members[name]
            else:
                members[name] = value
            return lambda: members.__setitem__(name, saved) if saved is not members \
                else members.pop(name)
        return change
    data = weight._data
    cases = {
        "nothing": (lambda: lambda: None, True),
        "new array, same layout": (swap(weight, "_data", data.copy()), True),
        "new shape": (swap(weight, "_data", np.zeros((16, 20), np.float32)), False),
        "new dtype": (swap(weight, "_data", data.astype(np.float64)), False),
        "new strides": (swap(weight, "_data", np.asfortranarray(data)), False),
        "requires_grad off": (swap(weight, "_requires_grad", False), False),
        "eval mode": (swap(first, "training", False), False),
        "parameter replaced": (entry(first._parameters, "weight",
                                     ember.nn.Parameter(weight.detach().clone())), False),
        "parameter removed": (entry(last._parameters, "bias", last._parameters), False),
        "parameter added": (entry(model._parameters, "extra",
                                  ember.nn.Parameter(ember.zeros(1))), False),
        "child replaced": (entry(model._modules, "1", ember.nn.ReLU()), False),
        # Not the plain dicts Module keeps: read through their values() all the same.
        "members in an OrderedDict": (swap(first, "_parameters",
                                           collections.OrderedDict(first._parameters)), True),
        "reordered OrderedDict": (swap(first, "_parameters", collections.OrderedDict(
            reversed(first._parameters.items()))), False),
    }
    return plan, cases


@pytest.mark.skipif(_C.kernels is None, reason="the C guards need the extension")
def test_c_guards_are_their_python_twin():
    """``replay_holds`` (C) and ``_holds_python`` agree on every change to what a plan's
    guards watch, and while they hold put the same arrays in the slots."""
    plan, cases = guard_cases()
    for name, (change, holds) in cases.items():
        undo = change()
        try:
            c_slots, python_slots = plan.initial.copy(), plan.initial.copy()
            got = (_C.kernels.replay_holds(plan.externals, plan.modules, c_slots),
                   compile_module._holds_python(plan.externals, plan.modules, python_slots))
            assert got == (holds, holds), name
            if holds:
                assert all(a is b for a, b in zip(c_slots, python_slots)), name
        finally:
            undo()
    with pytest.raises(TypeError):
        _C.kernels.replay_holds(((1, 2),), (), [None])
    with pytest.raises(IndexError):
        _C.kernels.replay_holds(((9,) + plan.externals[0][1:],), (), [None])


def test_a_plan_in_use_runs_the_step_eagerly():
    """The plan's buffers serve one replay at a time: a call while another thread replays it
    (here: its lock held) runs the step eagerly, with the same numbers."""
    eager_model, compiled_model = twin_models(mlp)
    eager = training_step(eager_model, ember.optim.SGD(eager_model.parameters(), lr=0.01),
                          ember.nn.MSELoss())
    compiled = ember.compile(training_step(
        compiled_model, ember.optim.SGD(compiled_model.parameters(), lr=0.01),
        ember.nn.MSELoss()))
    data = [(ember.tensor(x), ember.tensor(y)) for x, y in batches((8, 10), count=4)]
    for x, y in data[:2]:
        assert compiled(x, y).item() == eager(x, y).item()
    plan, = compiled._plans.values()
    with plan.lock:
        assert compiled(*data[2]).item() == eager(*data[2]).item()
    assert compiled(*data[3]).item() == eager(*data[3]).item()
    assert_same_parameters(eager_model, compiled_model)


def test_two_threads_calling_one_compiled_function():
    """One compiled function (captured first) called from two threads at once, on inputs of
    their own: each call's result is the eager one, whether it replayed or found the plan in
    use and ran eagerly."""
    ember.manual_seed(0)
    model = mlp()

    def predict(x):
        with ember.no_grad():
            return model(x)
    compiled = ember.compile(predict)
    inputs = [ember.tensor(x) for x, _ in batches((8, 10), count=40)]
    expected = [predict(x).numpy().copy() for x in inputs]
    compiled(inputs[0])  # captured here, in one thread
    compiled(inputs[0])
    assert kernel_entries(compiled) == (3 if _C.kernels is not None and _C.gemm_ready()
                                        else 0)
    results = {}

    def run(name, order):
        results[name] = all(np.array_equal(compiled(inputs[i]).numpy(), expected[i])
                            for _ in range(20) for i in order)
    workers = [threading.Thread(target=run, args=("forward", range(40))),
               threading.Thread(target=run, args=("backward", range(39, -1, -1)))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert results == {"forward": True, "backward": True}


@pytest.mark.skipif(_C.kernels is None, reason="the C loop needs the extension")
def test_c_loop_checks_its_program():
    """``replay`` (C) refuses a malformed program with an exception, never a crash."""
    replay = _C.kernels.replay
    with pytest.raises(IndexError):
        replay((((lambda slots: None), (5,)),), [None])
    with pytest.raises(TypeError):
        replay(((1,),), [None])
    with pytest.raises(IndexError):
        replay((((_C.kernels.relu_forward, (None, None), ((0, 3),), ()), ()),), [None])
    with pytest.raises(ZeroDivisionError):
        replay((((lambda slots: 1 / 0), ()),), [None])
    out = np.empty(3, np.float32)
    slots = [None, np.array([-1.0, 0.5, 2.0], np.float32), None]
    replay((((_C.kernels.relu_forward, (None, out), ((0, 1),), ((2, 1),)), (1,)),), slots)
    np.testing.assert_array_equal(out, [0.0, 0.5, 2.0])
    assert slots[1] is None and slots[2] is not None


class Shared(ember.nn.Module):
    """One Linear used twice (its weight's gradient is a sum), one without bias (``mm``), a
    ReLU between, and the hidden activation returned too (a kernel buffer leaving the step)."""

    def __init__(self, dtype):
        super().__init__()
        self.inner = ember.nn.Linear(6, 6, dtype=dtype)
        self.last = ember.nn.Linear(6, 2, bias=False, dtype=dtype)

    def forward(self, x):
        hidden = ember.relu(self.inner(ember.relu(self.inner(x))))
        return self.last(hidden), hidden


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_shared_weights_no_bias_inputs_with_gradients_and_returned_activations(dtype):
    """Kernel entries where gradients add up (a layer used twice), for ``mm`` (no bias), for
    an input that requires its gradient, and with several kernel results returned: bitwise
    the eager step, and every returned array is the call's own."""
    ember.manual_seed(0)
    eager_model = Shared(dtype)
    compiled_model = Shared(dtype)
    compiled_model.load_state_dict(eager_model.state_dict())

    def make(model):
        optimizer = ember.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)

        def step(x, y):
            optimizer.zero_grad()
            out, hidden = model(x)
            loss = ember.nn.functional.mse_loss(out, y, reduction="sum")
            loss.backward()
            optimizer.step()
            return loss, out, hidden
        return step
    eager, compiled = make(eager_model), ember.compile(make(compiled_model))
    kept = []
    for x, y in batches((5, 6), count=12):
        x, y = ember.tensor(x).to(dtype), ember.tensor(np.repeat(y, 2, axis=1)).to(dtype)
        xe, xc = x.clone().requires_grad_(), x.clone().requires_grad_()
        expected, got = eager(xe, y), compiled(xc, y)
        kept.append((expected, got))
        np.testing.assert_array_equal(xe.grad.numpy(), xc.grad.numpy())
        assert_same_parameters(eager_model, compiled_model)
        for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    for expected, got in kept:  # read after all the calls
        for e, g in zip(expected, got):
            np.testing.assert_array_equal(e.detach().numpy(), g.detach().numpy())
    assert len(compiled._plans) == 1
    if _C.kernels is not None and _C.gemm_ready():
        assert kernel_entries(compiled) >= 8


def test_another_thread_trains_eagerly_while_a_step_is_captured():
    """While one thread captures a step, another thread's ``zero_grad()``, ``train()`` and
    ``optimizer.step()`` just run (they used to hand themselves to the capturing thread's
    recorder and come back to themselves until the recursion limit)."""
    captured, trained = threading.Event(), threading.Event()
    ember.manual_seed(0)
    model = mlp()
    optimizer = ember.optim.SGD(model.parameters(), lr=0.01)
    criterion = ember.nn.MSELoss()

    @ember.compile
    def waiting_step(x, y):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        captured.set()
        assert trained.wait(10)  # the other thread trains meanwhile
        optimizer.step()
        return loss

    eager_model, reference_model = twin_models(mlp)
    eager = training_step(eager_model, ember.optim.SGD(eager_model.parameters(), lr=0.01),
                          criterion)
    reference = training_step(reference_model,
                              ember.optim.SGD(reference_model.parameters(), lr=0.01), criterion)
    data = [(ember.tensor(x), ember.tensor(y)) for x, y in batches((8, 10), count=3)]
    worker = threading.Thread(target=waiting_step, args=data[0])
    worker.start()
    try:
        assert captured.wait(10)
        eager_model.train()
        losses = [eager(x, y).item() for x, y in data]
    finally:
        trained.set()
        worker.join()
    reference_model.train()
    assert losses == [reference(x, y).item() for x, y in data]
    assert_same_parameters(reference_model, eager_model)
    waiting_step(*data[1])  # the capture holds: replayed, not captured again
    assert len(waiting_step._plans) == 1 and waiting_step._captures == 1


# Blocks of a random step, each ``(h, params) -> h`` on a (5, 6) activation: kernel entries
# (linear with and without bias, mm on a transpose, ReLU, MSE) mixed with what surrounds them
# in real steps (views, in-place ops on kernel results, a result used twice, a detached one).
BLOCKS = {
    "linear": lambda h, p: ember.nn.functional.linear(h, p["w"], p["b"]),
    "linear no bias": lambda h, p: ember.nn.functional.linear(h, p["w"]),
    "mm on a transpose": lambda h, p: h @ p["w"].t(),
    "relu": lambda h, p: ember.relu(h),
    "relu in place": lambda h, p: (h * 1.0).relu_(),
    "in-place add": lambda h, p: (h @ p["w"]).add_(p["b"]),
    "view and back": lambda h, p: h.reshape(3, 10).t().reshape(5, 6),
    "used twice": lambda h, p: ember.relu(h) * 0.5 + h,
    "detached branch": lambda h, p: h + ember.relu(h).detach(),
    "mse term": lambda h, p: h + ember.nn.functional.mse_loss(h, p["w"][:5], reduction="none"),
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(sorted(BLOCKS)), min_size=1, max_size=6),
       st.booleans(), st.booleans())
def test_random_steps_replay_bitwise(blocks, set_to_none, return_hidden):
    """Steps made of random blocks, compiled and eager from the same weights over a few calls
    with new inputs: losses, returned activations, weights, gradients, bit for bit."""
    def make():
        ember.manual_seed(0)
        params = {"w": ember.randn(6, 6, requires_grad=True),
                  "b": ember.randn(6, requires_grad=True)}
        optimizer = ember.optim.SGD(list(params.values()), lr=0.01, momentum=0.9)

        def step(x, y):
            optimizer.zero_grad(set_to_none=set_to_none)
            h = BLOCKS["linear"](x, params)  # so that the loss has a gradient
            for name in blocks:
                h = BLOCKS[name](h, params)
            loss = ember.nn.functional.mse_loss(h, y)
            loss.backward()
            optimizer.step()
            return (loss, h) if return_hidden else loss
        return step, params
    (eager, eager_params), (compiled, compiled_params) = make(), make()
    compiled = ember.compile(compiled)
    kept = []
    for x, y in batches((5, 6), count=4, seed=len(blocks)):  # captured, then replayed
        x, y = ember.tensor(x), ember.tensor(np.repeat(y, 6, axis=1))
        kept.append((eager(x, y), compiled(x, y)))
        for name in eager_params:
            p, q = eager_params[name], compiled_params[name]
            np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
            assert (p.grad is None) == (q.grad is None)
            if p.grad is not None:
                np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    for expected, got in kept:
        expected = expected if return_hidden else (expected,)
        got = got if return_hidden else (got,)
        for e, g in zip(expected, got):
            np.testing.assert_array_equal(e.detach().numpy(), g.detach().numpy())


@pytest.mark.skipif(_C.kernels is None, reason="the C key parts need the extension")
def test_c_key_parts_are_their_python_twins():
    """``replay_describe`` and ``replay_same_free`` (C) give what ``_describe_python`` and
    ``_same_free_python`` give: the arguments' part of the guard key (None unless they are all
    tensors), which of them share an array, and whether the names a step reads are bound to
    the objects of the last call."""
    x, y = ember.ones(2, 3), ember.zeros(3, dtype=ember.float64, requires_grad=True)
    view = ember.Tensor._wrap(x._data)  # another tensor over x's very array
    weight = ember.nn.Parameter(ember.ones(4, 2).t())
    cases = [(), (x,), (x, y), (x, x), (x, y, view), (weight, x), (x, 1.0), (x, [y]),
             (None,), (x.t(), y[1:])]
    for args in cases:
        c_tensors, python_tensors = [], []
        got = _C.kernels.replay_describe(args, ember.Tensor, c_tensors)
        assert got == compile_module._describe_python(args, ember.Tensor, python_tensors)
        assert c_tensors == python_tensors if got is not None else c_tensors == []
    assert _C.kernels.replay_describe((x, x), ember.Tensor, [])[1] == (0, 0)
    assert _C.kernels.replay_describe((x, y, view), ember.Tensor, [])[1] == (0, 1, 0)

    scale = [2.0]

    def make():
        factor = 3.0

        def step(t):
            return t * factor * scale[0] * np.float32(1)
        return step
    step = make()
    namespace, names, cells = compile_module._free_names(step)
    missing = compile_module._MISSING
    seen = [namespace.get(name, missing) for name in names] + [c.cell_contents for c in cells]
    changes = {"nothing": (lambda: None, True), "a cell rebound": (lambda: cells[0].__setattr__(
        "cell_contents", 4.0), False), "a cell emptied": (lambda: cells[0].__delattr__(
        "cell_contents"), False)}
    for name, (change, same) in changes.items():
        saved = cells[0].cell_contents
        change()
        try:
            for twin in (_C.kernels.replay_same_free, compile_module._same_free_python):
                assert twin(namespace, names, cells, seen, missing) is same, name
        finally:
            cells[0].cell_contents = saved
    for twin in (_C.kernels.replay_same_free, compile_module._same_free_python):
        assert twin(namespace, names, cells, seen[:-1], missing) is False  # other names
        assert twin({**namespace, "np": None}, names, cells, seen, missing) is False
        assert twin({}, names, cells, seen, missing) is False  # "np" and "scale" missing


@pytest.mark.skipif(_C.kernels is None, reason="kernel entries need the extension")
@pytest.mark.parametrize("loop", ["c", "python"])
def test_a_split_relu_replays_as_a_kernel_entry(loop, monkeypatch):
    """A ReLU large enough to be split over ember's threads (a million elements and more) is
    replayed as its split kernel call, into the plan's buffers, each way: bitwise the eager
    step over several steps, and a new thread count captures again."""
    use_loop(loop, monkeypatch)
    threads = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        def make():
            ember.manual_seed(0)
            scale = ember.randn(1, 600, requires_grad=True)
            optimizer = ember.optim.SGD([scale], lr=0.1)

            def step(x):
                optimizer.zero_grad()
                hidden = ember.relu(x * scale)
                loss = (ember.relu(hidden - 0.5) * hidden).mean()
                loss.backward()
                optimizer.step()
                return loss, hidden
            return step, scale
        (eager, eager_scale), (compiled, compiled_scale) = make(), make()
        compiled = ember.compile(compiled)
        rng = np.random.default_rng(0)
        kept = []
        for _ in range(4):
            x = ember.tensor(rng.standard_normal((2000, 600), dtype=np.float32))
            kept.append((eager(x), compiled(x)))
            np.testing.assert_array_equal(eager_scale.detach().numpy(),
                                          compiled_scale.detach().numpy())
            np.testing.assert_array_equal(eager_scale.grad.numpy(), compiled_scale.grad.numpy())
        for expected, got in kept:  # read after all the calls
            for e, g in zip(expected, got):
                np.testing.assert_array_equal(e.detach().numpy(), g.detach().numpy())
        plan, = compiled._plans.values()
        kernels = {entry[0] for entry, _ in plan.program if type(entry) is tuple}
        elementwise = importlib.import_module("ember.ops.elementwise")
        assert {elementwise._split_relu_forward, elementwise._split_relu_backward} <= kernels
        ember.set_num_threads(1)
        compiled(x)
        assert compiled._captures == 2
    finally:
        ember.set_num_threads(threads)
