"""PyTorch's "Neural Networks" tutorial on ember and on PyTorch, step by step, same weights."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from nets import tutorial_net

import ember

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def graph_names(node):
    """Node names of the backward graph, depth first in next_functions order."""
    names, stack, seen = [], [node], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.append(node.name())
        stack.extend(child for child, _ in reversed(node.next_functions))
    return names


def as_numpy(value):
    if value is None:
        return None
    return np.array(value.detach().numpy())


def run_tutorial(fw, state, inputs, flatten=False):
    """Every step of the tutorial; returns what each step produced, as NumPy arrays."""
    nn, optim = fw.nn, fw.optim
    net = tutorial_net(fw, flatten)
    net.load_state_dict({k: fw.tensor(v) for k, v in state.items()})
    record = {"repr": repr(net).replace("torch.", "ember."),
              "sizes": [repr(p.size()).replace("torch.", "ember.") for p in net.parameters()]}
    input = fw.tensor(inputs["input"])
    out = net(input)
    record["out"] = as_numpy(out)
    record["out_grad_fn"] = out.grad_fn.name()
    net.zero_grad()
    out.backward(fw.tensor(inputs["out_grad"]))
    record["grads_1"] = [as_numpy(p.grad) for p in net.parameters()]

    output = net(input)
    target = fw.tensor(inputs["target"]).view(1, -1)
    criterion = nn.MSELoss()
    loss = criterion(output, target)
    record["loss"] = as_numpy(loss)
    record["graph"] = graph_names(loss.grad_fn)
    record["first_nodes"] = [loss.grad_fn.name(), loss.grad_fn.next_functions[0][0].name(),
                             loss.grad_fn.next_functions[0][0].next_functions[0][0].name()]

    net.zero_grad()
    record["bias_grad_before"] = net.conv1.bias.grad
    loss.backward()
    record["grads_2"] = [as_numpy(p.grad) for p in net.parameters()]

    learning_rate = 0.01
    for f in net.parameters():
        f.data.sub_(f.grad.data * learning_rate)
    record["weights_manual"] = [as_numpy(p) for p in net.parameters()]

    optimizer = optim.SGD(net.parameters(), lr=0.01)
    optimizer.zero_grad()
    output = net(input)
    loss = criterion(output, target)
    loss.backward()
    optimizer.step()
    record["loss_2"] = as_numpy(loss)
    record["weights_sgd"] = [as_numpy(p) for p in net.parameters()]
    record["unsqueeze"] = tuple(fw.tensor(inputs["input"][0]).unsqueeze(0).shape)
    return record


@pytest.fixture
def tutorial_inputs():
    torch.manual_seed(0)
    reference = tutorial_net(torch)
    state = {k: v.detach().numpy().copy() for k, v in reference.state_dict().items()}
    rng = np.random.default_rng(1)
    inputs = {"input": rng.standard_normal((1, 1, 32, 32), dtype=np.float32),
              "out_grad": rng.standard_normal((1, 10), dtype=np.float32),
              "target": rng.standard_normal(10, dtype=np.float32)}
    return state, inputs


@pytest.mark.parametrize("flatten", [False, True], ids=["view", "flatten"])
def test_tutorial_matches_pytorch_step_by_step(tutorial_inputs, flatten):
    state, inputs = tutorial_inputs
    ours = run_tutorial(ember, state, inputs, flatten)
    theirs = run_tutorial(torch, state, inputs, flatten)
    assert ours["repr"] == theirs["repr"]
    assert ours["sizes"] == theirs["sizes"]
    assert ours["out_grad_fn"] == theirs["out_grad_fn"] == "AddmmBackward0"
    assert ours["graph"] == theirs["graph"]
    assert ours["first_nodes"] == theirs["first_nodes"]
    assert ours["bias_grad_before"] is None and theirs["bias_grad_before"] is None
    assert ours["unsqueeze"] == theirs["unsqueeze"] == (1, 1, 32, 32)
    for key in ("out", "loss", "loss_2"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-6)
    for key in ("grads_1", "grads_2", "weights_manual", "weights_sgd"):
        for mine, reference in zip(ours[key], theirs[key], strict=True):
            np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-6)


def test_tutorial_example_runs_unchanged():
    """examples/neural_networks_tutorial.py runs end to end and prints PyTorch's forms."""
    result = subprocess.run([sys.executable, "examples/neural_networks_tutorial.py"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "(conv1): Conv2d(1, 6, kernel_size=(3, 3), stride=(1, 1))" in out
    assert "(fc1): Linear(in_features=576, out_features=120, bias=True)" in out
    assert "ember.Size([6, 1, 3, 3])" in out
    assert "grad_fn=<AddmmBackward0>)" in out
    assert "grad_fn=<MseLossBackward0>)" in out
    assert "<MseLossBackward0 object at 0x" in out
    assert "<AddmmBackward0 object at 0x" in out
    assert "<AccumulateGrad object at 0x" in out
    assert "conv1.bias.grad before backward\nNone\n" in out
    assert "ember.Size([1, 576])" in out
