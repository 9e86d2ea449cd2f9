"""Autograd against PyTorch: leaves, accumulation, graph freeing, errors, grad modes, custom
Functions, ``autograd.grad`` and ``gradcheck``."""

import numpy as np
import pytest
import torch
from snippets import assert_same, run_both

import ember

# ---- leaves, accumulation, retain_graph ---------------------------------------------------

def test_leaf_and_non_leaf():
    x = ember.ones(2, requires_grad=True)
    y = x * 2
    assert x.is_leaf and x.grad_fn is None and x.requires_grad
    assert not y.is_leaf and y.grad_fn is not None and y.requires_grad
    assert ember.ones(2).is_leaf and (ember.ones(2) * 2).is_leaf
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    assert y.grad is None  # non-leaf gradients are not kept unless retain_grad()


def test_gradients_accumulate_across_backward_calls():
    assert_same("x = lib.ones(2, requires_grad=True); (x * 2).sum().backward(); "
                "(x * 3).sum().backward(); out = x.grad")
    assert_same("x = lib.ones(2, requires_grad=True); (x * 2).sum().backward(); g = x.grad; "
                "(x * 2).sum().backward(); out = (g is x.grad, g)")
    assert_same("x = lib.ones(2, requires_grad=True); (x * 2).sum().backward(); x.grad = None; "
                "(x * 3).sum().backward(); out = x.grad")


def test_retain_graph_allows_a_second_backward():
    assert_same("x = lib.ones(2, requires_grad=True); y = (x * x).sum(); "
                "y.backward(retain_graph=True); y.backward(); out = x.grad")


@pytest.mark.parametrize("code", [
    "x = lib.ones(2, requires_grad=True); y = (x * x).sum(); y.backward(); y.backward()",
    "x = lib.ones(2, requires_grad=True); y = x.exp().sum(); y.backward(); y.backward()",
    "x = lib.ones(2, requires_grad=True); y = (x * x).sum(); lib.autograd.grad(y, x); "
    "lib.autograd.grad(y, x)",
])
def test_second_backward_through_freed_graph(code):
    assert_same(code)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        exec(code, {"lib": ember})


def test_graph_without_saved_values_can_run_twice():
    assert_same("x = lib.ones(2, requires_grad=True); y = (x + x).sum(); y.backward(); "
                "y.backward(); out = x.grad")


BACKWARD_ERRORS = [
    "x = lib.ones(2, requires_grad=True); (x * 2).backward()",
    "x = lib.ones(2, requires_grad=True); (x * 2).backward(lib.ones(3))",
    "x = lib.ones(2); (x * 2).sum().backward()",
    "a = lib.ones(2); lib.autograd.grad(a.sum(), a)",
    "a = lib.ones(2, requires_grad=True); lib.autograd.grad((a * 2).sum(), [a, lib.ones(2)])",
    "a = lib.ones(2, requires_grad=True); b = lib.ones(2, requires_grad=True); "
    "lib.autograd.grad((a * 2).sum(), [a, b])",
]


@pytest.mark.parametrize("code", BACKWARD_ERRORS)
def test_backward_errors_match_torch(code):
    assert_same(code)


def test_implicit_gradient_needs_a_scalar():
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar "
                                           "outputs"):
        (ember.ones(2, requires_grad=True) * 2).backward()


def test_backward_of_tensor_without_grad():
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and does "
                                           "not have a grad_fn"):
        ember.ones(2).sum().backward()


BACKWARD_CASES = [
    "x = lib.ones(2, requires_grad=True); y = x * 2; y.backward(lib.tensor([1.0, 2.0])); "
    "out = x.grad",
    "x = lib.ones(2, requires_grad=True); y = x.sum(); y.backward(lib.tensor(2.0)); out = x.grad",
    "x = lib.ones(1, requires_grad=True); (x * 2).backward(); out = x.grad",
    "x = lib.tensor(2.0, requires_grad=True); (x * x * x).backward(); out = x.grad",
    "x = lib.ones(2, 2, requires_grad=True); a = x[0]; b = x[1]; (a * 2 + b * 3).sum()"
    ".backward(); out = x.grad",
    "x = lib.ones(2, dtype=lib.float64, requires_grad=True); (x.float() * 2).sum().backward(); "
    "out = x.grad",
    "x = lib.ones(2, requires_grad=True); a, b = x.unbind(); (a * 3).backward(); out = x.grad",
    "x = lib.ones(4, requires_grad=True); a, b = x.split(2); (a.sum() * 3).backward(); "
    "out = x.grad",
    "x = lib.tensor([[1.0, 5.0], [3.0, 2.0]], requires_grad=True); v, i = x.max(1); "
    "v.sum().backward(); out = (x.grad, i.requires_grad, i.grad_fn)",
    "x = lib.ones(2, requires_grad=True); y = x * 2; z = y.sum(); z.backward(); "
    "out = (y.grad, x.grad)",
    "a = lib.ones(2, requires_grad=True); b = lib.ones(2, requires_grad=True); "
    "y1 = (a * 2).sum(); y2 = (a * b).sum(); lib.autograd.backward([y1, y2]); "
    "out = (a.grad, b.grad)",
    "a = lib.ones(2, requires_grad=True); b = lib.ones(2, requires_grad=True); "
    "(a * b).sum().backward(inputs=[a]); out = (a.grad, b.grad)",
]


@pytest.mark.parametrize("code", BACKWARD_CASES)
def test_backward_matches_torch(code):
    assert_same(code)


# ---- in-place operations and autograd ------------------------------------------------------

INPLACE_CASES = [
    "x = lib.ones(3, requires_grad=True); y = x * 1; y[0] = 5; y.sum().backward(); out = x.grad",
    "x = lib.ones(3, requires_grad=True); y = x * 2; y.add_(1); y.sum().backward(); "
    "out = (x.grad, y.grad_fn.name())",
    "x = lib.ones(3, requires_grad=True); y = x.clone(); y[1] = 0; (y * y).sum().backward(); "
    "out = x.grad",
    "x = lib.ones(3, requires_grad=True); y = x * 1; y[1:] *= 3; y.sum().backward(); "
    "out = (x.grad, y.grad_fn.name())",
    "x = lib.ones(2, 3, requires_grad=True); y = x * 1; y[:, 0] += 5; (y * y).sum().backward(); "
    "out = x.grad",
    "x = lib.ones(2, 2, requires_grad=True); y = x * 1; y[0].mul_(2); y.sum().backward(); "
    "out = x.grad",
    "x = lib.ones(2, 2, requires_grad=True); y = x * 1; y[0][1] = 5; y.sum().backward(); "
    "out = x.grad",
    "x = lib.ones(2, 3, requires_grad=True); y = x * 1; v = y[0]; y.mul_(3); v.sum().backward(); "
    "out = (x.grad, v.grad_fn.name())",
    "x = lib.ones(2, 3, requires_grad=True); w = lib.full((3,), 2.0, requires_grad=True); "
    "y = x * 1; y[1].mul_(w); (y * y).sum().backward(); out = (x.grad, w.grad)",
    "x = lib.ones(2, 3, requires_grad=True); y = x.t() * 1; y.t()[0].add_(1); "
    "(y * y).sum().backward(); out = x.grad",
    "x = lib.ones(3); y = lib.ones(3, requires_grad=True); x.mul_(y); x.sum().backward(); "
    "out = (y.grad, x.grad_fn.name())",
    "x = lib.zeros(3); w = lib.ones(3, requires_grad=True); x[0] = w[1] * 2; "
    "x.sum().backward(); out = (x.grad_fn.name(), w.grad)",
    "x = lib.zeros(4); w = lib.ones(2, requires_grad=True); x[1:3].add_(w); "
    "(x * x).sum().backward(); out = (x.grad_fn.name(), w.grad)",
    "x = lib.ones(3, requires_grad=True); y = lib.zeros(3); y.copy_(x); y.sum().backward(); "
    "out = (y.grad_fn.name(), x.grad)",
    "x = lib.ones(2, requires_grad=True); y = x.relu(); y.relu_(); y.sum().backward()",
    "x = lib.ones(3, requires_grad=True); x[0:2].add_(1)",
    "x = lib.ones(3, requires_grad=True); x[[0]] = 1",
    "x = lib.ones(3, requires_grad=True); x.fill_(1)",
]


@pytest.mark.parametrize("code", INPLACE_CASES)
def test_inplace_autograd_matches_torch(code):
    expected, actual = run_both(code)
    # The in-place error's hint names PyTorch's anomaly mode, which ember does not have.
    assert actual.split(" Hint:")[0] == expected.split(" Hint:")[0], \
        f"\n{code}\ntorch: {expected}\nember: {actual}"


def test_modified_saved_tensor_is_detected():
    x = ember.ones(3, requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match="one of the variables needed for gradient "
                                           "computation has been modified by an inplace "
                                           r"operation: \[ember.FloatTensor \[3\]\], which is "
                                           "output 0 of Exp, is at version 1; expected "
                                           "version 0 instead"):
        y.sum().backward()


def test_modified_saved_leaf_is_detected():
    w = ember.ones(3, requires_grad=True)
    y = (ember.ones(3, requires_grad=True) * w).sum()
    with ember.no_grad():
        w.add_(1)
    with pytest.raises(RuntimeError, match=r"\[ember.FloatTensor \[3\]\] is at version 1"):
        y.backward()


def test_inplace_on_leaf_that_requires_grad():
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in "
                                           "an in-place operation."):
        ember.ones(2, requires_grad=True).add_(1)


# ---- grad modes, detach, requires_grad_ ------------------------------------------------------

GRAD_MODES = [
    "x = lib.ones(2, requires_grad=True)\nwith lib.no_grad():\n    y = x * 2\n"
    "out = (y.requires_grad, y.grad_fn, lib.is_grad_enabled())",
    "x = lib.ones(2, requires_grad=True)\nwith lib.no_grad():\n    with lib.enable_grad():\n"
    "        y = x * 2\n    inner = lib.is_grad_enabled()\nout = (y.requires_grad, inner)",
    "x = lib.ones(2, requires_grad=True)\n@lib.no_grad()\ndef f(t):\n    return t * 2\n"
    "out = (f(x).requires_grad, lib.is_grad_enabled())",
    "x = lib.ones(2, requires_grad=True)\n@lib.no_grad\ndef f(t):\n    return t * 2\n"
    "out = f(x).requires_grad",
    "x = lib.ones(2, requires_grad=True)\n@lib.enable_grad()\ndef f(t):\n    return t * 2\n"
    "with lib.no_grad():\n    y = f(x)\nout = y.requires_grad",
    "x = lib.ones(2, requires_grad=True)\nwith lib.set_grad_enabled(False):\n    y = x * 2\n"
    "out = (y.requires_grad, lib.is_grad_enabled())",
    "x = lib.ones(2, requires_grad=True)\nlib.set_grad_enabled(False)\ny = x * 2\n"
    "lib.set_grad_enabled(True)\nout = (y.requires_grad, lib.is_grad_enabled())",
    "x = lib.ones(2, requires_grad=True)\n@lib.set_grad_enabled(False)\ndef f(t):\n"
    "    return t * 2\nout = (f(x).requires_grad, lib.is_grad_enabled())",
    "x = lib.ones(2, requires_grad=True)\nwith lib.inference_mode():\n    y = x * 2\n"
    "out = (y.requires_grad, lib.is_grad_enabled())",
    "try:\n    with lib.no_grad():\n        raise ValueError\nexcept ValueError:\n    pass\n"
    "out = lib.is_grad_enabled()",
    "x = lib.ones(2, requires_grad=True); y = x.detach(); out = (y.requires_grad, y.is_leaf)",
    "x = lib.ones(2, requires_grad=True); y = x * 2; y.detach_(); "
    "out = (y.requires_grad, y.is_leaf, y.grad_fn)",
    "x = lib.ones(2); x.requires_grad_(); out = x.requires_grad",
    "x = lib.ones(2); x.requires_grad_(); x.requires_grad_(False); out = x.requires_grad",
    "x = lib.ones(2, requires_grad=True); y = x * 2; y.requires_grad_(False)",
    "x = lib.ones(2, requires_grad=True); y = x * 2; y.requires_grad_(True); out = y.requires_grad",
    "x = lib.ones(2, requires_grad=True); y = x.detach() * 3; out = (y.requires_grad, y)",
]


@pytest.mark.parametrize("code", GRAD_MODES)
def test_grad_modes_match_torch(code):
    assert_same(code)


@pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])
def test_grad_mode_belongs_to_each_thread(lib):
    # One thread inside no_grad (or after set_grad_enabled(False)) leaves another's recording
    # on, and a thread started meanwhile begins with it on: PyTorch's grad mode is per thread.
    import threading

    inside, done, seen = threading.Event(), threading.Event(), {}

    def without_grad():
        with lib.no_grad():
            inside.set()
            done.wait(10)
            seen["other thread"] = lib.is_grad_enabled()

    thread = threading.Thread(target=without_grad)
    thread.start()
    inside.wait(10)
    x = lib.ones(2, requires_grad=True)
    seen["here"] = ((x * 2).requires_grad, lib.is_grad_enabled())
    done.set()
    thread.join()
    assert seen == {"here": (True, True), "other thread": False}

    lib.set_grad_enabled(False)
    try:
        fresh = []
        started = threading.Thread(target=lambda: fresh.append(lib.is_grad_enabled()))
        started.start()
        started.join()
        assert fresh == [True] and not lib.is_grad_enabled()
    finally:
        lib.set_grad_enabled(True)


def test_retain_grad_keeps_non_leaf_gradients():
    assert_same("x = lib.ones(2, requires_grad=True); y = x * 2; y.retain_grad(); "
                "z = (y * y).sum(); z.backward(); out = (y.grad, x.grad, y.retains_grad)")
    assert_same("x = lib.ones(2, requires_grad=True); x.retain_grad(); out = x.retains_grad")


# ---- graph structure --------------------------------------------------------------------------

def structure(node, depth=0):
    """A node's name and its next_functions, recursively, as nested tuples."""
    if node is None:
        return None
    if depth > 8:
        return node.name()
    return (node.name(), tuple((structure(child, depth + 1), index)
                               for child, index in node.next_functions))


GRAPHS = [
    "x * 2",
    "2 * x",
    "(x * w).sum()",
    "(w * x + b).relu().mean()",
    "((x @ W.t() + b).tanh() ** 2).sum()",
    "lib.addmm(b, x.view(1, 3), W.t())",
    "lib.cat([x, w, x]).view(3, 3).sum(1)",
    "lib.stack([w, x]).max()",
    "lib.where(x > 0, x, 0.0)",
    "lib.where(x > 0, 0.0, x)",
    "(x.exp() / x.exp().sum()).log()",
    "x[0] * x[1:].sum()",
    "x.unsqueeze(0).expand(2, 3).reshape(-1).prod()",
    "(x - 1) / (2 - x)",
    "x.sigmoid() * x.clamp(min=0) - x.abs().sqrt()",
    "lib.matmul(W, x)",
    "x.double().float()",
]


@pytest.mark.parametrize("expression", GRAPHS)
def test_next_functions_match_torch(expression):
    graphs = []
    for lib in (torch, ember):
        values = {"x": [0.5, -1.0, 2.0], "w": [1.0, 2.0, 3.0], "b": [0.1, 0.2, 0.3]}
        scope = {name: lib.tensor(v, requires_grad=name != "w") for name, v in values.items()}
        scope["W"] = lib.tensor([[0.1, 0.2, 0.3]] * 3, requires_grad=True)
        scope["lib"] = lib
        graphs.append(structure(eval(expression, scope).grad_fn))
    assert graphs[1] == graphs[0]


# ---- custom Functions -----------------------------------------------------------------------

def custom_functions(lib):
    """The tutorial's LegendrePolynomial3 and MyReLU, and two more shapes of Function."""

    class LegendrePolynomial3(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    class MyReLU(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input

    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, factor):
            ctx.factor = factor
            ctx.save_for_backward(x, w)
            return x * w * factor

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            return (grad * w * ctx.factor if ctx.needs_input_grad[0] else None,
                    grad * x * ctx.factor if ctx.needs_input_grad[1] else None, None)

    class TwoOutputs(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, grad_double, grad_triple):
            return grad_double * 2 + grad_triple * 3

    return LegendrePolynomial3, MyReLU, Scale, TwoOutputs


def exercise_custom_functions(lib):
    legendre, relu, scale, two = custom_functions(lib)
    seen = []
    x = lib.tensor([-0.5, 0.3, 0.9], requires_grad=True)
    y = legendre.apply(x)
    seen += [y, y.grad_fn.name(), [n.name() for n, _ in y.grad_fn.next_functions]]
    y.sum().backward()
    seen.append(x.grad)
    x2 = lib.tensor([-1.0, 2.0], requires_grad=True)
    r = relu.apply(x2)
    (r * r).sum().backward()
    seen += [x2.grad, r.grad_fn.name()]
    a, b = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0, 4.0])
    s = scale.apply(a, b, 2.0)
    s.sum().backward()
    seen += [s, a.grad, b.grad, [(n.name() if n else None, i) for n, i in s.grad_fn.next_functions]]
    p, q = two.apply(a)
    q.sum().backward()
    seen += [p.grad_fn is q.grad_fn, a.grad]
    with lib.no_grad():
        z = legendre.apply(x)
    seen += [z.requires_grad, z.grad_fn, legendre.apply(lib.tensor([1.0])).requires_grad]
    return [repr(item).replace("torch.", "ember.") for item in seen]


def test_custom_functions_match_torch():
    assert exercise_custom_functions(ember) == exercise_custom_functions(torch)


def test_custom_function_node_name():
    legendre = custom_functions(ember)[0]
    y = legendre.apply(ember.ones(2, requires_grad=True))
    assert y.grad_fn.name() == "LegendrePolynomial3Backward"
    assert repr(y).endswith("grad_fn=<LegendrePolynomial3Backward>)")


def test_custom_function_saved_tensors_freed_after_backward():
    legendre = custom_functions(ember)[0]
    y = legendre.apply(ember.ones(2, requires_grad=True)).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


# ---- autograd.grad ----------------------------------------------------------------------------

GRAD_CASES = [
    "a = lib.ones(2, requires_grad=True); b = lib.ones(2, requires_grad=True); "
    "out = lib.autograd.grad((a * b * 3).sum(), [a, b])",
    "a = lib.ones(2, requires_grad=True); b = lib.ones(2, requires_grad=True); "
    "out = lib.autograd.grad((a * 2).sum(), [a, b], allow_unused=True)",
    "a = lib.ones(2, requires_grad=True); b = lib.ones(2, requires_grad=True); "
    "out = lib.autograd.grad((a * 2).sum(), [a, b], allow_unused=True, materialize_grads=True)",
    "a = lib.ones(2, requires_grad=True); y = (a * a).sum(); g = lib.autograd.grad(y, a); "
    "out = (g, a.grad)",
    "a = lib.ones(2, requires_grad=True); y = a * 3; "
    "out = lib.autograd.grad(y, a, lib.tensor([1.0, 2.0]))",
    "a = lib.ones(2, requires_grad=True); b = a * 2; y = (b * b).sum(); "
    "out = lib.autograd.grad(y, [b, a])",
    "a = lib.ones(2, requires_grad=True); y = (a * a).sum(); "
    "out = (lib.autograd.grad(y, a, retain_graph=True), lib.autograd.grad(y, a))",
    "a = lib.ones(2, requires_grad=True); y1 = (a * 2).sum(); y2 = (a * a).sum(); "
    "out = lib.autograd.grad([y1, y2], a)",
]


@pytest.mark.parametrize("code", GRAD_CASES)
def test_autograd_grad_matches_torch(code):
    assert_same(code)


# ---- gradcheck ------------------------------------------------------------------------------

class WrongSquare(ember.autograd.Function):
    """x ** 2 with a backward that forgets the factor 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return grad_output * x


def test_gradcheck_accepts_a_correct_backward():
    x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    w = ember.randn(2, 3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b: (b @ a).tanh(), (x, w))


def test_gradcheck_catches_a_wrong_backward():
    x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        ember.autograd.gradcheck(WrongSquare.apply, (x,))
    assert not ember.autograd.gradcheck(WrongSquare.apply, (x,), raise_exception=False)


def test_gradcheck_wants_float64():
    with pytest.raises(ValueError, match="float64"):
        ember.autograd.gradcheck(lambda a: a * 2, (ember.ones(2, requires_grad=True),))


def test_leaf_grads_never_share_memory_with_each_other_or_the_given_gradient():
    """The engine hands fresh arrays to .grad without copying; shared ones must be copied."""
    x = ember.ones(3, requires_grad=True)
    y = ember.ones(3, requires_grad=True)
    w = ember.ones(3, requires_grad=True)
    gradient = ember.full((3,), 2.0)
    (x + y + w.clone()).backward(gradient)
    x.grad.zero_()
    assert y.grad.tolist() == [2.0, 2.0, 2.0]
    assert w.grad.tolist() == [2.0, 2.0, 2.0]
    assert gradient.tolist() == [2.0, 2.0, 2.0]
    y.grad.add_(1)
    assert w.grad.tolist() == [2.0, 2.0, 2.0]


def test_custom_function_returning_a_saved_tensor_does_not_alias_grad():
    class PassSaved(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x, c):
            ctx.save_for_backward(c)
            return x * 1

        @staticmethod
        def backward(ctx, grad_output):
            c, = ctx.saved_tensors
            return c, None

    c = ember.tensor([1.0, 2.0, 3.0])
    x = ember.zeros(3, requires_grad=True)
    PassSaved.apply(x, c).sum().backward()
    PassSaved.apply(x, c).sum().backward()
    assert c.tolist() == [1.0, 2.0, 3.0]
    assert x.grad.tolist() == [2.0, 4.0, 6.0]


@pytest.mark.parametrize("code", [
    "x = lib.ones(3, requires_grad=True); x.std().backward(); result = x.grad",
    "x = lib.tensor([[1., 2.], [3., 2.]], requires_grad=True); x.std(0).sum().backward(); "
    "result = x.grad",
    "x = lib.tensor([1., float('nan'), 2.], requires_grad=True); x.max().backward(); "
    "result = x.grad",
    "x = lib.tensor([1., float('nan'), 2.], requires_grad=True); x.min().backward(); "
    "result = x.grad",
    "x = lib.tensor([[1., float('nan')], [2., 3.]], requires_grad=True); "
    "x.amax(1).sum().backward(); result = x.grad",
])
def test_degenerate_reduction_gradients_match_torch(code):
    """A zero std and NaN extrema: gradients PyTorch defines, not 0/0."""
    results = []
    for lib in (ember, torch):
        scope = {"lib": lib}
        exec(code, scope)
        results.append(np.asarray(scope["result"].detach().numpy()))
    np.testing.assert_array_equal(results[0], results[1])


def test_inplace_result_of_a_higher_kind_is_refused_like_torch():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="result type Long can't be cast to the desired "
                           "output type Bool"):
            lib.tensor([True, False]).add_(1)


def test_register_hook_matches_torch():
    """Hooks on a leaf and on non-leaves: observe, replace, remove; retain_grad sees the result."""
    def run(lib):
        x = lib.ones(2, requires_grad=True)
        seen = []
        handle = x.register_hook(lambda g: g * 10)
        y = x * 3
        y.register_hook(lambda g: seen.append(g.tolist()))
        z = y * 2
        z.retain_grad()
        z.register_hook(lambda g: g + 1)
        z.sum().backward()
        first = (x.grad.tolist(), seen, z.grad.tolist())
        handle.remove()
        x.grad = None
        (x * 3).sum().backward()
        return first, x.grad.tolist()

    assert run(ember) == run(torch)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ember.ones(2).register_hook(print)


def test_hook_applies_to_autograd_grad():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 0)
    (grad,) = ember.autograd.grad((x * x).sum(), x)
    assert grad.tolist() == [0.0, 0.0]


def test_post_accumulate_grad_hook_sees_the_accumulated_grad_as_pytorch():
    seen = {"ember": [], "torch": []}
    for name, lib in (("ember", ember), ("torch", torch)):
        w = lib.ones(2, requires_grad=True)
        handle = w.register_post_accumulate_grad_hook(
            lambda t, name=name: seen[name].append(t.grad.tolist()))
        (w * 3).sum().backward()
        (w * 2).sum().backward()  # the hook sees the sum so far
        handle.remove()
        (w * 5).sum().backward()  # removed: not called
        assert w.grad.tolist() == [10.0, 10.0]
        with pytest.raises(RuntimeError, match="non-leaf"):
            (w * 2).register_post_accumulate_grad_hook(print)
    assert seen["ember"] == seen["torch"] == [[3.0, 3.0], [5.0, 5.0]]


@pytest.mark.parametrize("op", ["mul", "conv2d", "linear", "max_pool2d"])
@pytest.mark.parametrize("grad_dtype", ["float64", "int64"])
def test_a_root_gradient_of_another_dtype_is_cast_to_the_outputs_as_pytorch(op, grad_dtype):
    # The compiled conv kernel met a float64 gradient for its float32 output and refused it.
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 1, 6, 6)).astype(np.float32)
    w = rng.standard_normal((3, 1, 3, 3)).astype(np.float32)
    results = []
    for lib in (ember, torch):
        F = lib.nn.functional
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        if op == "mul":
            y = a * 2
        elif op == "conv2d":
            y = F.conv2d(a, b)
        elif op == "linear":
            y = F.linear(a.reshape(2, 36), b.reshape(3, 9).repeat(1, 4))
        else:
            y = F.max_pool2d(a, 2)
        y.backward(lib.ones(tuple(y.shape), dtype=getattr(lib, grad_dtype)))
        results.append([t.grad.numpy() if t.grad is not None else None for t in (a, b)])
    for ours, theirs in zip(*results):
        if theirs is None:
            assert ours is None
        else:
            assert ours.dtype == theirs.dtype
            np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_a_complex_root_gradient_for_a_real_output_is_refused():
    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="both grad_output and output are required to have"):
        (x * 2).backward(ember.ones(3, dtype=ember.complex64))


def test_a_tensor_a_hook_returns_and_keeps_is_not_taken_as_the_leafs_grad():
    # The leaf took the hook's tensor as its .grad without a copy, so the next backward added
    # into the hook's tensor: a silent change to a tensor the program holds.
    results = []
    for lib in (ember, torch):
        w = lib.ones(3, requires_grad=True)
        kept = lib.full((3,), 5.0)
        w.register_hook(lambda grad, kept=kept: kept)
        a = lib.ones(3, requires_grad=True)
        b = a + 0
        kept_too = lib.full((3,), 7.0)
        b.register_hook(lambda grad, kept_too=kept_too: kept_too)  # passed on by AddBackward
        for _ in range(2):
            (w * 2).sum().backward()
            (b + 0).sum().backward(retain_graph=True)
        results.append([t.tolist() for t in (w.grad, kept, a.grad, kept_too)])
    assert results[0] == results[1] == [[10.0] * 3, [5.0] * 3, [14.0] * 3, [7.0] * 3]


_KEPT = np.arange(6.0)  # an array a backward below hands out views of, and keeps


def test_a_leaf_takes_a_sole_view_without_a_copy_but_copies_a_view_of_a_kept_array():
    from ember.autograd.function import Function as ArrayFunction

    class KeepsItsGradient(ArrayFunction):
        @staticmethod
        def forward(ctx, a):
            return a * 1

        @staticmethod
        def backward(ctx, grad):
            return _KEPT.reshape(3, 2)  # a C-contiguous view of the whole of a kept array

    w = ember.ones(3, 2, dtype=ember.float64, requires_grad=True)
    for _ in range(2):
        KeepsItsGradient.apply(w).sum().backward()
    np.testing.assert_array_equal(_KEPT, np.arange(6.0))  # not added into
    np.testing.assert_array_equal(w.grad.numpy(), 2 * np.arange(6.0).reshape(3, 2))
    # A Linear weight's gradient is the transpose of a transpose of the kernel's fresh array:
    # taken as it is, and it adds up over backward calls as PyTorch's does.
    rng = np.random.default_rng(0)
    x, weight = rng.standard_normal((5, 4)), rng.standard_normal((3, 4))
    grads = []
    for lib in (ember, torch):
        w = lib.tensor(weight, requires_grad=True)
        inputs = lib.tensor(x)
        for _ in range(2):
            (lib.nn.functional.linear(inputs, w) ** 2).sum().backward()
        grads.append(w.grad.numpy().copy())
        w.grad.add_(1.0)  # writing into .grad changes nothing but .grad
        np.testing.assert_array_equal(inputs.numpy(), x)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)
