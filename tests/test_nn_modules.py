"""ember.nn against torch.nn: Module mechanics, printed forms, state_dict, init, layers.

Most tests build the same model with both libraries from one function ``build(lib)`` and compare
what the two print, name, return or raise. Values are compared after copying PyTorch's weights
into ember with ``load_state_dict``, since the two libraries draw different random numbers.
"""

import copy
import math
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch
from nets import tutorial_net
from twins import as_numpy, copy_weights, to_ember

import ember
import ember.nn as nn

LIBS = (ember, torch)


def same_text(ember_text: str, torch_text: str) -> None:
    """The two texts are equal once PyTorch's module name is read as ember's."""
    assert ember_text == torch_text.replace("torch", "ember")


def nested_sequential(lib):
    nn_ = lib.nn
    return nn_.Sequential(OrderedDict([
        ("features", nn_.Sequential(
            nn_.Conv2d(3, 8, 3, padding=1, bias=False), nn_.BatchNorm2d(8), nn_.ReLU(inplace=True),
            nn_.MaxPool2d(2), nn_.Conv2d(8, 16, (3, 5), stride=2, padding=(1, 2), dilation=1,
                                         groups=2, padding_mode="zeros"),
            nn_.AdaptiveAvgPool2d((1, 1)))),
        ("flatten", nn_.Flatten()),
        ("classifier", nn_.Sequential(nn_.Dropout(0.2), nn_.Linear(16, 10),
                                      nn_.LogSoftmax(dim=1))),
    ]))


def containers(lib):
    nn_ = lib.nn
    return nn_.Sequential(
        nn_.ModuleList([nn_.Linear(4, 4) for _ in range(3)] + [nn_.GELU(), nn_.GELU("tanh")]),
        nn_.ModuleDict({"act": nn_.LeakyReLU(0.2), "norm": nn_.LayerNorm([4, 2]),
                        "drop": nn_.Dropout(0.1, inplace=True)}),
        nn_.ModuleList(),
        nn_.Sequential(),
        nn_.ParameterList([nn_.Parameter(lib.ones(2, 3)),
                           nn_.Parameter(lib.ones(1, dtype=lib.float64))]),
    )


def every_layer(lib):
    nn_ = lib.nn
    return nn_.ModuleList([
        nn_.Identity(), nn_.Linear(3, 2, bias=False), nn_.Conv2d(2, 4, 3, padding="same"),
        nn_.Conv2d(2, 4, 3, padding="valid", padding_mode="reflect"),
        nn_.Conv2d(4, 4, 1, stride=(2, 1), dilation=2, bias=False, padding_mode="circular"),
        nn_.ReLU(), nn_.LeakyReLU(), nn_.Sigmoid(), nn_.Tanh(), nn_.SiLU(inplace=True), nn_.ELU(),
        nn_.ELU(alpha=0.5, inplace=True), nn_.Softplus(2, 10), nn_.Softmax(), nn_.Softmax(-1),
        nn_.MaxPool2d(3, 1, 1, 2, False, True), nn_.MaxPool2d((2, 3)), nn_.AvgPool2d(3, 2, 1),
        nn_.AdaptiveAvgPool2d(1), nn_.AdaptiveAvgPool2d((None, 3)), nn_.Flatten(0, 2),
        nn_.Unflatten(1, (2, 3)), nn_.Unflatten(-1, [4, 4]), nn_.Dropout(),
        nn_.BatchNorm1d(3, affine=False), nn_.BatchNorm2d(5, momentum=None, eps=1e-3),
        nn_.BatchNorm2d(5, track_running_stats=False, bias=False), nn_.LayerNorm(7, bias=False),
        nn_.LayerNorm((2, 3), elementwise_affine=False),
        nn_.MSELoss(), nn_.L1Loss(reduction="sum"), nn_.CrossEntropyLoss(label_smoothing=0.1),
        nn_.NLLLoss(ignore_index=0), nn_.BCELoss(), nn_.BCEWithLogitsLoss(),
    ])


ARCHITECTURES = [tutorial_net, nested_sequential, containers, every_layer]


# ---- printing and naming -------------------------------------------------------------------


@pytest.mark.parametrize("build", ARCHITECTURES)
def test_print_matches_pytorch(build):
    same_text(str(build(ember)), str(build(torch)))


def test_print_tutorial_net():
    assert str(tutorial_net(ember)) == (
        "Net(\n"
        "  (conv1): Conv2d(1, 6, kernel_size=(3, 3), stride=(1, 1))\n"
        "  (conv2): Conv2d(6, 16, kernel_size=(3, 3), stride=(1, 1))\n"
        "  (fc1): Linear(in_features=576, out_features=120, bias=True)\n"
        "  (fc2): Linear(in_features=120, out_features=84, bias=True)\n"
        "  (fc3): Linear(in_features=84, out_features=10, bias=True)\n"
        ")")


@pytest.mark.parametrize("build", ARCHITECTURES)
def test_parameter_and_buffer_names_shapes_order(build):
    ember_model, torch_model = build(ember), build(torch)
    assert ([(n, tuple(p.shape)) for n, p in ember_model.named_parameters()]
            == [(n, tuple(p.shape)) for n, p in torch_model.named_parameters()])
    assert ([(n, tuple(b.shape)) for n, b in ember_model.named_buffers()]
            == [(n, tuple(b.shape)) for n, b in torch_model.named_buffers()])
    assert ([n for n, _ in ember_model.named_modules()]
            == [n for n, _ in torch_model.named_modules()])
    assert ([n for n, _ in ember_model.named_children()]
            == [n for n, _ in torch_model.named_children()])


def test_parameters_print_as_pytorch():
    ember_params = list(tutorial_net(ember).parameters())
    torch_params = list(tutorial_net(torch).parameters())
    assert len(ember_params) == 10
    assert repr(ember_params[0].size()) == "ember.Size([6, 1, 3, 3])"
    same_text(repr([p.size() for p in ember_params]), repr([p.size() for p in torch_params]))
    assert all(isinstance(p, nn.Parameter) and p.requires_grad and p.is_leaf
               for p in ember_params)


def test_parameter():
    data = ember.tensor([1.0, 2.0])
    param = nn.Parameter(data)
    same_text(repr(param), repr(torch.nn.Parameter(torch.tensor([1.0, 2.0]))))
    same_text(repr(nn.Parameter(data, requires_grad=False)),
              repr(torch.nn.Parameter(torch.tensor([1.0, 2.0]), requires_grad=False)))
    same_text(repr(nn.Parameter()), repr(torch.nn.Parameter()))
    assert isinstance(param, ember.Tensor) and param.is_leaf and param.requires_grad
    with ember.no_grad():
        param.mul_(3)
    assert data.tolist() == [3.0, 6.0]  # shares memory with the tensor it was made from
    assert type(param.detach()) is ember.Tensor and type(param.data) is ember.Tensor
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(ember.tensor([1, 2]))
    clone = copy.deepcopy(param)
    assert type(clone) is nn.Parameter and clone.tolist() == param.tolist()
    assert clone._data is not param._data
    restored = pickle.loads(pickle.dumps(nn.Parameter(data, requires_grad=False)))
    assert type(restored) is nn.Parameter and not restored.requires_grad
    assert restored.tolist() == [3.0, 6.0]


# ---- default initialisation ----------------------------------------------------------------


@pytest.mark.parametrize("build, fan_in", [
    (lambda lib: lib.nn.Linear(576, 120), 576),
    (lambda lib: lib.nn.Conv2d(6, 16, 3), 6 * 9),
    (lambda lib: lib.nn.Conv2d(8, 16, (3, 5), groups=4), 2 * 15),
])
def test_default_init_follows_pytorch_formula(build, fan_in):
    """kaiming_uniform_(a=sqrt(5)) gives a weight bound of 1/sqrt(fan_in); the bias shares it."""
    bound = 1 / math.sqrt(fan_in)
    ember_layer, torch_layer = build(ember), build(torch)
    for name in ("weight", "bias"):
        values = as_numpy(getattr(ember_layer, name))
        reference = as_numpy(getattr(torch_layer, name))
        assert values.shape == reference.shape
        assert np.abs(values).max() <= bound
        # Uniform on [-bound, bound]: std bound/sqrt(3), extremes near the bound, mean near 0.
        tolerance = 4 / math.sqrt(values.size)
        assert abs(values.std() / (bound / math.sqrt(3)) - 1) < tolerance * 2
        assert np.abs(values).max() > bound * (1 - 10 / values.size)
        assert abs(values.mean()) < bound * tolerance
        assert abs(values.std() - reference.std()) < bound * tolerance * 2


def test_normalization_init():
    for lib_layers in zip(*[(lib.nn.BatchNorm2d(4), lib.nn.LayerNorm((2, 3))) for lib in LIBS]):
        ember_layer, torch_layer = lib_layers
        for key, value in torch_layer.state_dict().items():
            np.testing.assert_array_equal(as_numpy(ember_layer.state_dict()[key]), as_numpy(value))
            assert ember_layer.state_dict()[key].dtype.name == str(value.dtype).split(".")[1]


# ---- state_dict ----------------------------------------------------------------------------


@pytest.mark.parametrize("build", ARCHITECTURES)
def test_state_dict_keys_and_shapes_match_pytorch(build):
    ember_state, torch_state = build(ember).state_dict(), build(torch).state_dict()
    assert isinstance(ember_state, OrderedDict)
    assert [(k, tuple(v.shape)) for k, v in ember_state.items()] == [
        (k, tuple(v.shape)) for k, v in torch_state.items()]


def test_state_dict_values_are_detached_and_share_memory():
    net = nested_sequential(ember)
    state = net.state_dict()
    assert not any(value.requires_grad for value in state.values())
    assert not any(isinstance(value, nn.Parameter) for value in state.values())
    with ember.no_grad():
        net.classifier[1].bias.fill_(7.0)
    assert state["classifier.1.bias"].tolist() == [7.0] * 10
    assert state["features.1.num_batches_tracked"].dtype == ember.int64
    kept = net.state_dict(keep_vars=True)
    assert kept["classifier.1.bias"] is net.classifier[1].bias


def test_load_state_dict_from_pytorch_gives_identical_outputs():
    ember_net, torch_net = tutorial_net(ember), tutorial_net(torch)
    result = ember_net.load_state_dict({key: to_ember(value)
                                        for key, value in torch_net.state_dict().items()})
    assert repr(result) == "<All keys matched successfully>"
    x = torch.randn(4, 1, 32, 32)
    np.testing.assert_allclose(as_numpy(ember_net(to_ember(x))), as_numpy(torch_net(x)),
                               rtol=1e-4, atol=1e-5)


def test_load_state_dict_with_buffers():
    ember_model, torch_model = nested_sequential(ember), nested_sequential(torch)
    torch_model.train()
    torch_model(torch.randn(4, 3, 16, 16))  # moves the running statistics away from 0 and 1
    copy_weights(ember_model, torch_model)
    ember_model.eval()
    torch_model.eval()
    for key, value in torch_model.state_dict().items():
        np.testing.assert_array_equal(as_numpy(ember_model.state_dict()[key]), as_numpy(value))
    x = torch.randn(2, 3, 16, 16)
    np.testing.assert_allclose(as_numpy(ember_model(to_ember(x))), as_numpy(torch_model(x)),
                               rtol=1e-4, atol=1e-5)


def load_error(lib, edit, strict=True) -> str:
    """The message of the RuntimeError that loading an edited state dict raises."""
    net = tutorial_net(lib)
    state = dict(net.state_dict())
    edit(lib, state)
    with pytest.raises(RuntimeError) as error:
        net.load_state_dict(state, strict=strict)
    return str(error.value)


def drop_bias(lib, state):
    del state["fc3.bias"]


def add_unexpected(lib, state):
    state["fc4.weight"] = lib.zeros(3)
    state["conv1.scale"] = lib.zeros(3)
    state["extra"] = lib.zeros(1)


def missing_and_unexpected(lib, state):
    drop_bias(lib, state)
    add_unexpected(lib, state)


def wrong_shape(lib, state):
    state["fc2.weight"] = lib.zeros(84, 121)
    state["conv1.bias"] = lib.zeros(7)


def not_a_tensor(lib, state):
    state["fc1.bias"] = [0.0] * 120


@pytest.mark.parametrize("edit", [drop_bias, add_unexpected, missing_and_unexpected,
                                  wrong_shape, not_a_tensor])
def test_load_state_dict_errors_match_pytorch(edit):
    message = load_error(ember, edit)
    assert message.startswith("Error(s) in loading state_dict for Net:\n\t")
    same_text(message, load_error(torch, edit))


def test_load_state_dict_missing_key_message():
    assert load_error(ember, drop_bias) == ('Error(s) in loading state_dict for Net:\n\t'
                                            'Missing key(s) in state_dict: "fc3.bias". ')


def test_load_state_dict_not_strict():
    results = []
    for lib in LIBS:
        net = tutorial_net(lib)
        state = net.state_dict()
        missing_and_unexpected(lib, state)
        results.append(repr(net.load_state_dict(state, strict=False)))
    assert results[0] == results[1]
    assert results[0] == ("_IncompatibleKeys(missing_keys=['fc3.bias'], unexpected_keys="
                          "['fc4.weight', 'extra', 'conv1.scale'])")
    # Shape mismatches raise even when not strict.
    same_text(load_error(ember, wrong_shape, strict=False),
              load_error(torch, wrong_shape, strict=False))


def test_load_state_dict_copies_in_place_and_assign_replaces():
    net = tutorial_net(ember)
    weight = net.fc1.weight
    source = tutorial_net(ember).state_dict()
    net.load_state_dict(source)
    assert net.fc1.weight is weight and weight._data is not source["fc1.weight"]._data
    assert weight.equal(source["fc1.weight"]) and weight.requires_grad
    net.load_state_dict(source, assign=True)
    assert net.fc1.weight is not weight and isinstance(net.fc1.weight, nn.Parameter)
    assert net.fc1.weight.requires_grad
    assert net.fc1.weight._data is source["fc1.weight"]._data
    assert list(net.parameters())[4] is net.fc1.weight
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        net.load_state_dict([1, 2])


# ---- gradients, modes, conversion --------------------------------------------------------


class Affine(nn.Module):
    """y = scale * x + shift, with a running count as a buffer and a child for nesting."""

    def __init__(self, child=None):
        super().__init__()
        self.scale = nn.Parameter(ember.tensor([2.0, 3.0]))
        self.shift = nn.Parameter(ember.zeros(2))
        self.register_buffer("count", ember.zeros(1))
        self.register_buffer("cache", ember.zeros(2), persistent=False)
        self.child = child

    def forward(self, x):
        y = self.scale * x + self.shift
        return self.child(y) if self.child is not None else y


def test_zero_grad():
    model = Affine(Affine())
    model(ember.ones(2)).sum().backward()
    assert model.scale.grad.tolist() == [2.0, 3.0]
    model.zero_grad(set_to_none=False)
    assert model.scale.grad.tolist() == [0.0, 0.0]
    assert model.child.shift.grad.tolist() == [0.0, 0.0]
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_train_eval_propagate():
    for lib in LIBS:
        model = nested_sequential(lib)
        assert all(m.training for m in model.modules())
        assert model.eval() is model
        assert not any(m.training for m in model.modules())
        model.classifier.train()
        assert [m.training for m in model.modules()] == [
            False, False, False, False, False, False, False, False, False, True, True, True,
            True]
        with pytest.raises(ValueError, match="training mode is expected to be boolean"):
            model.train(1)


def test_requires_grad_():
    model = Affine(Affine())
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    model.child.requires_grad_()
    assert [p.requires_grad for p in model.parameters()] == [False, False, True, True]


def test_to_float64_keeps_parameter_identity():
    model = nested_sequential(ember)
    params = list(model.parameters())
    model(ember.randn(2, 3, 8, 8)).sum().backward()
    assert model.to(ember.float64) is model
    assert [p is q for p, q in zip(params, model.parameters())] == [True] * len(params)
    assert all(p.dtype == ember.float64 and p.grad.dtype == ember.float64 for p in params)
    batch_norm = model.features[1]
    assert batch_norm.running_mean.dtype == ember.float64
    assert batch_norm.num_batches_tracked.dtype == ember.int64
    assert model(ember.randn(2, 3, 8, 8, dtype=ember.float64)).dtype == ember.float64
    model.float()
    assert all(p.dtype == ember.float32 for p in params)
    model.double()
    assert batch_norm.running_var.dtype == ember.float64 and params[0].dtype == ember.float64
    model.to(dtype=ember.float32)
    assert batch_norm.running_var.dtype == ember.float32
    with pytest.raises(TypeError, match="only accepts floating point or complex dtypes"):
        model.to(ember.int64)


def test_to_device(device):
    model = Affine(Affine())
    params = list(model.parameters())
    model(ember.ones(2)).sum().backward()
    assert model.to(device) is model
    assert all(p.device.type == device and p.grad.device.type == device for p in params)
    assert [p is q for p, q in zip(params, model.parameters())] == [True] * 4
    assert model.count.device.type == device and model.child.cache.device.type == device
    out = model(ember.ones(2, device=device))
    assert out.device.type == device and out.tolist() == [4.0, 9.0]
    model.cpu()
    assert all(p.device.type == "cpu" for p in params)


def test_apply_visits_children_first():
    visited = {lib: [] for lib in LIBS}
    for lib in LIBS:
        model = nested_sequential(lib)
        assert model.apply(lambda m, lib=lib: visited[lib].append(type(m).__name__)) is model
    assert visited[ember] == visited[torch]


def test_shared_modules_and_parameters_are_listed_once():
    counts = []
    for lib in LIBS:
        shared = lib.nn.Linear(2, 2)
        model = lib.nn.Sequential(shared, lib.nn.ReLU(), shared)
        model.extra = lib.nn.Linear(2, 2)
        model.extra.weight = shared.weight
        counts.append((len(list(model.parameters())), [n for n, _ in model.named_modules()],
                       [n for n, _ in model.named_parameters()],
                       [n for n, _ in model.named_parameters(remove_duplicate=False)],
                       list(model.state_dict()), len(list(model.children()))))
    assert counts[0] == counts[1]


def test_module_call_passes_arguments():
    class Add(nn.Module):
        def forward(self, a, b=0, *, c=0):
            return a + b + c

    assert Add()(1, 2, c=3) == 6


# ---- registration and attribute access ---------------------------------------------------


def test_registration():
    model = Affine()
    assert [n for n, _ in model.named_buffers()] == ["count", "cache"]
    assert list(model.state_dict()) == ["scale", "shift", "count"]  # cache is not persistent
    model.register_parameter("bias", None)
    assert model.bias is None and [n for n, _ in model.named_parameters()] == ["scale", "shift"]
    model.bias = nn.Parameter(ember.ones(2))
    assert [n for n, _ in model.named_parameters()] == ["scale", "shift", "bias"]
    model.bias = None
    assert model.bias is None and "bias" in model._parameters
    model.count = ember.ones(1)
    assert model.state_dict()["count"].tolist() == [1.0]
    model.child = nn.ReLU()
    assert model.get_submodule("child") is model.child
    del model.child
    del model.shift
    assert [n for n, _ in model.named_parameters()] == ["scale"]
    with pytest.raises(AttributeError, match="'Affine' object has no attribute 'shift'"):
        _ = model.shift
    model.shift = 5  # now a plain attribute
    assert model.shift == 5 and "shift" not in model._parameters
    with pytest.raises(TypeError, match="cannot assign 'ember.nn.modules.activation.ReLU' "
                                        "as parameter 'scale'"):
        model.scale = nn.ReLU()
    model.count = nn.Parameter(ember.ones(1))  # a parameter replaces the buffer of that name
    assert "count" not in model._buffers and model.count is model._parameters["count"]
    assert {"count", "cache", "scale", "forward"} <= set(dir(model))


def test_registry_written_directly_is_found():
    model = Affine()
    model._parameters["extra"] = nn.Parameter(ember.ones(1))
    assert model.extra is model._parameters["extra"]


def test_get_submodule_parameter_buffer():
    model = nested_sequential(ember)
    assert model.get_submodule("") is model
    assert model.get_submodule("features.1") is model.features[1]
    assert model.get_parameter("classifier.1.weight") is model.classifier[1].weight
    assert model.get_buffer("features.1.running_var") is model.features[1].running_var


def attribute_errors(lib):
    """Each misuse of the Module API as a zero-argument function, by name."""
    nn_ = lib.nn

    class Net(nn_.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn_.Linear(2, 2)
            self.register_buffer("buf", lib.zeros(1))

    class EarlyModule(nn_.Module):
        def __init__(self):
            self.fc = nn_.Linear(2, 2)

    class EarlyParameter(nn_.Module):
        def __init__(self):
            self.w = nn_.Parameter(lib.ones(1))

    class EarlyBuffer(nn_.Module):
        def __init__(self):
            self.register_buffer("b", lib.ones(1))

    net = Net()
    return {
        "missing attribute": lambda: net.x,
        "tensor as module": lambda: setattr(net, "fc", lib.ones(2)),
        "tensor as parameter": lambda: setattr(net.fc, "weight", lib.ones(2)),
        "int as buffer": lambda: setattr(net, "buf", 3),
        "parameter name type": lambda: net.register_parameter(1, None),
        "parameter name dot": lambda: net.register_parameter("a.b", None),
        "parameter name empty": lambda: net.register_parameter("", None),
        "parameter name taken": lambda: net.register_parameter("fc", None),
        "tensor registered as parameter": lambda: net.register_parameter("p", lib.ones(2)),
        "buffer name type": lambda: net.register_buffer(1, None),
        "buffer name dot": lambda: net.register_buffer("a.b", None),
        "buffer name empty": lambda: net.register_buffer("", None),
        "buffer name taken": lambda: net.register_buffer("fc", None),
        "int registered as buffer": lambda: net.register_buffer("b", 3),
        "module name type": lambda: net.add_module(1, None),
        "module name dot": lambda: net.add_module("a.b", None),
        "module name empty": lambda: net.add_module("", None),
        "module name taken": lambda: net.add_module("buf", nn_.ReLU()),
        "int as module": lambda: net.add_module("m", 3),
        "class as module": lambda: net.add_module("m", Net),
        "module before init": EarlyModule,
        "parameter before init": EarlyParameter,
        "buffer before init": EarlyBuffer,
        "init arguments": lambda: nn_.Module(3),
        "init keyword": lambda: nn_.Module(a=3),
        "no forward": lambda: nn_.Module()(1),
        "delete missing": lambda: delattr(net, "nothing"),
        "submodule missing": lambda: net.get_submodule("fc.x"),
        "submodule not a module": lambda: net.get_submodule("buf"),
        "parameter missing": lambda: net.get_parameter("fc.zz"),
        "parameter not a parameter": lambda: net.get_parameter("buf"),
        "buffer not a buffer": lambda: net.get_buffer("fc.weight"),
        "integer dtype": lambda: net.to(lib.int64),
        "sequential index": lambda: nn_.Sequential(nn_.ReLU())[3],
        "sequential negative index": lambda: nn_.Sequential(nn_.ReLU())[-3],
        "sequential string index": lambda: nn_.Sequential(nn_.ReLU())["a"],
        "sequential of int": lambda: nn_.Sequential(nn_.ReLU(), 3),
        "module list index": lambda: nn_.ModuleList([nn_.ReLU()])[3],
        "module list of int": lambda: nn_.ModuleList([3]),
        "module dict of int": lambda: nn_.ModuleDict({"a": 3}),
        "module dict key": lambda: nn_.ModuleDict({"a": nn_.ReLU()})["b"],
        "groups": lambda: nn_.Conv2d(3, 6, 3, groups=2),
        "out groups": lambda: nn_.Conv2d(4, 6, 3, groups=4),
        "zero groups": lambda: nn_.Conv2d(4, 6, 3, groups=0),
        "same padding stride": lambda: nn_.Conv2d(4, 6, 3, padding="same", stride=2),
        "dropout p": lambda: nn_.Dropout(1.5),
        "batch norm 2d input": lambda: nn_.BatchNorm2d(3)(lib.ones(2, 3)),
        "batch norm 1d input": lambda: nn_.BatchNorm1d(3)(lib.ones(2, 3, 4, 5)),
        "unflatten size": lambda: nn_.Unflatten(1, (2, "a")),
        "parameter list call": lambda: nn_.ParameterList()(1),
    }


@pytest.mark.parametrize("case", list(attribute_errors(torch)))
def test_errors_match_pytorch(case):
    outcomes = []
    for lib in LIBS:
        with pytest.raises(Exception) as error:
            attribute_errors(lib)[case]()
        outcomes.append((type(error.value), str(error.value)))
    (ember_type, ember_message), (torch_type, torch_message) = outcomes
    assert ember_type is torch_type
    same_text(ember_message, torch_message.replace("torch.nn.Buffer, ", ""))


def test_padding_errors():
    # Not compared with PyTorch's text, which lists a set in an order that varies between runs.
    with pytest.raises(ValueError, match="Invalid padding string 'foo', should be one of "):
        nn.Conv2d(4, 6, 3, padding="foo")
    with pytest.raises(ValueError, match="padding_mode must be one of .* but got "
                                         "padding_mode='foo'"):
        nn.Conv2d(4, 6, 3, padding_mode="foo")


# ---- hooks -----------------------------------------------------------------------------------


def hook_trace(lib):
    """Calls and results of every kind of forward hook, in order."""
    calls = []
    layer = lib.nn.Linear(2, 2)
    with lib.no_grad():
        layer.weight.copy_(lib.eye(2))
        layer.bias.zero_()
    x = lib.ones(1, 2)

    def double_input(module, args):
        calls.append("pre")
        return args[0] * 2

    def add_kwarg(module, args, kwargs):
        calls.append("pre-kwargs")
        return args, kwargs

    def first(module, args):
        calls.append("first")

    def negate_output(module, args, output):
        calls.append(("post", args[0].tolist(), output.tolist()))
        return -output

    def with_kwargs(module, args, kwargs, output):
        calls.append(("post-kwargs", sorted(kwargs)))

    handles = [layer.register_forward_pre_hook(double_input),
               layer.register_forward_pre_hook(add_kwarg, with_kwargs=True),
               layer.register_forward_pre_hook(first, prepend=True),
               layer.register_forward_hook(negate_output),
               layer.register_forward_hook(with_kwargs, with_kwargs=True)]
    calls.append(layer(x).tolist())
    handles[0].remove()
    handles[3].remove()
    calls.append(layer(x).tolist())
    for handle in handles:
        handle.remove()
    with layer.register_forward_hook(lambda m, a, o: o + 1):
        calls.append(layer(x).tolist())
    calls.append(layer(x).tolist())

    def fail(module, args):
        raise ValueError("pre-hook failed")

    layer.register_forward_pre_hook(fail)
    layer.register_forward_hook(lambda m, a, o: calls.append(("always", o)), always_call=True)
    layer.register_forward_hook(lambda m, a, o: calls.append("never"))
    with pytest.raises(ValueError):
        layer(x)
    return calls


def test_forward_hooks_match_pytorch():
    assert hook_trace(ember) == hook_trace(torch)


def test_forward_hook_always_call_runs_when_forward_fails():
    layer = nn.Linear(2, 2)
    seen = []
    layer.register_forward_hook(lambda m, a, o: seen.append(o), always_call=True)
    with pytest.raises(RuntimeError):
        layer(ember.ones(3, 3))
    assert seen == [None]


# ---- containers ----------------------------------------------------------------------------


def sequential_operations(lib):
    nn_ = lib.nn
    results = []
    model = nn_.Sequential(OrderedDict([("a", nn_.ReLU()), ("b", nn_.Tanh()),
                                        ("c", nn_.Sigmoid())]))
    results += [repr(model[0]), repr(model[-1]), repr(model[1:]), len(model),
                [repr(m) for m in model]]
    model.append(nn_.Identity())
    model[0] = nn_.GELU()
    results.append(repr(model))
    del model[1]
    results.append(repr(model))
    model.insert(1, nn_.ELU())
    model.extend([nn_.SiLU()])
    results += [repr(model.pop(0)), repr(model)]
    layers = nn_.ModuleList([nn_.ReLU(), nn_.Tanh()])
    layers.append(nn_.Sigmoid())
    layers += [nn_.Identity()]
    layers.insert(1, nn_.ELU())
    layers[-1] = nn_.SiLU()
    results += [repr(layers), repr(layers[1:3]), repr(layers + layers)]
    del layers[0]
    results += [repr(layers.pop(-1)), repr(layers)]
    heads = nn_.ModuleDict({"x": nn_.ReLU()})
    heads.update([("y", nn_.Tanh())])
    heads["z"] = nn_.Identity()
    results += [list(heads), list(heads.keys()), [repr(m) for m in heads.values()],
                "y" in heads, len(heads), repr(heads.pop("x")), repr(heads)]
    del heads["y"]
    results.append(repr(heads))
    heads.clear()
    results.append(repr(heads))
    params = nn_.ParameterList([lib.ones(2)])
    params.append(nn_.Parameter(lib.zeros(3)))
    params.extend([lib.ones(1)])
    results += [len(params), [type(p).__name__ for p in params], repr(params),
                [n for n, _ in params.named_parameters()]]
    return results


def test_container_operations_match_pytorch():
    ember_results, torch_results = sequential_operations(ember), sequential_operations(torch)
    for ember_value, torch_value in zip(ember_results, torch_results):
        same_text(str(ember_value), str(torch_value))


def test_sequential_forward_and_renumbered_attributes():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    assert model(ember.ones(5, 3)).shape == (5, 2)
    del model[0]
    assert getattr(model, "0") is model[0] and isinstance(model[0], nn.ReLU)
    assert not hasattr(model, "2")


# ---- layers against PyTorch ---------------------------------------------------------------


def check_layer(build, *shapes, train=True, atol=1e-5, inputs=None):
    """Same weights, same inputs: the outputs, input gradients and parameter gradients agree."""
    ember_layer, torch_layer = build(ember), build(torch)
    copy_weights(ember_layer, torch_layer)
    ember_layer.train(train)
    torch_layer.train(train)
    torch_inputs = inputs or [torch.randn(*shape, requires_grad=True) for shape in shapes]
    ember_inputs = [to_ember(x).requires_grad_(x.requires_grad) for x in torch_inputs]
    torch_out = torch_layer(*torch_inputs)
    ember_out = ember_layer(*ember_inputs)
    np.testing.assert_allclose(as_numpy(ember_out), as_numpy(torch_out), rtol=1e-4, atol=atol)
    if torch_out.requires_grad:
        weights = torch.randn(torch_out.shape)
        (torch_out * weights).sum().backward()
        (ember_out * to_ember(weights)).sum().backward()
        for ember_x, torch_x in zip(ember_inputs, torch_inputs):
            if torch_x.requires_grad:
                np.testing.assert_allclose(as_numpy(ember_x.grad), as_numpy(torch_x.grad),
                                           rtol=1e-4, atol=atol)
        for (name, ember_p), torch_p in zip(ember_layer.named_parameters(),
                                            torch_layer.parameters()):
            np.testing.assert_allclose(as_numpy(ember_p.grad), as_numpy(torch_p.grad),
                                       rtol=1e-4, atol=atol, err_msg=name)
    for key, value in torch_layer.state_dict().items():
        np.testing.assert_allclose(as_numpy(ember_layer.state_dict()[key]), as_numpy(value),
                                   rtol=1e-5, atol=1e-6, err_msg=key)


LAYERS = {
    "linear": (lambda lib: lib.nn.Linear(5, 3), (4, 5)),
    "linear 3d no bias": (lambda lib: lib.nn.Linear(5, 3, bias=False), (2, 4, 5)),
    "identity": (lambda lib: lib.nn.Identity(), (2, 3)),
    "conv": (lambda lib: lib.nn.Conv2d(2, 4, 3), (2, 2, 7, 7)),
    "conv strided": (lambda lib: lib.nn.Conv2d(4, 6, (3, 2), stride=2, padding=(1, 2),
                                               dilation=(1, 2), groups=2), (2, 4, 9, 8)),
    "conv same": (lambda lib: lib.nn.Conv2d(2, 3, 4, padding="same", bias=False), (1, 2, 6, 5)),
    "conv circular": (lambda lib: lib.nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"),
                      (1, 2, 6, 5)),
    "conv reflect same": (lambda lib: lib.nn.Conv2d(2, 3, (3, 4), padding="same",
                                                    padding_mode="reflect"), (1, 2, 6, 5)),
    "relu": (lambda lib: lib.nn.ReLU(), (3, 4)),
    "leaky relu": (lambda lib: lib.nn.LeakyReLU(0.2), (3, 4)),
    "sigmoid": (lambda lib: lib.nn.Sigmoid(), (3, 4)),
    "tanh": (lambda lib: lib.nn.Tanh(), (3, 4)),
    "gelu": (lambda lib: lib.nn.GELU(), (3, 4)),
    "gelu tanh": (lambda lib: lib.nn.GELU("tanh"), (3, 4)),
    "silu": (lambda lib: lib.nn.SiLU(), (3, 4)),
    "elu": (lambda lib: lib.nn.ELU(0.5), (3, 4)),
    "softplus": (lambda lib: lib.nn.Softplus(2.0, 1.0), (3, 4)),
    "softmax": (lambda lib: lib.nn.Softmax(dim=1), (3, 4)),
    "log softmax": (lambda lib: lib.nn.LogSoftmax(dim=-1), (3, 4)),
    "max pool": (lambda lib: lib.nn.MaxPool2d(2), (2, 3, 6, 6)),
    "max pool padded": (lambda lib: lib.nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
                        (2, 3, 7, 6)),
    "avg pool": (lambda lib: lib.nn.AvgPool2d(3, stride=2, padding=1,
                                              count_include_pad=False), (2, 3, 7, 6)),
    "adaptive avg pool": (lambda lib: lib.nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 7, 8)),
    "flatten": (lambda lib: lib.nn.Flatten(), (2, 3, 4, 5)),
    "unflatten": (lambda lib: lib.nn.Unflatten(1, (3, 4)), (2, 12)),
    "batch norm 1d": (lambda lib: lib.nn.BatchNorm1d(3), (8, 3)),
    "batch norm 1d sequence": (lambda lib: lib.nn.BatchNorm1d(3, momentum=None), (4, 3, 5)),
    "batch norm 2d": (lambda lib: lib.nn.BatchNorm2d(3), (4, 3, 5, 5)),
    "batch norm no stats": (lambda lib: lib.nn.BatchNorm2d(3, track_running_stats=False,
                                                           affine=False), (4, 3, 2, 2)),
    "layer norm": (lambda lib: lib.nn.LayerNorm((3, 4)), (2, 3, 4)),
    "layer norm no affine": (lambda lib: lib.nn.LayerNorm(4, elementwise_affine=False), (2, 4)),
    "mse": (lambda lib: lib.nn.MSELoss(), (3, 4), (3, 4)),
    "l1 sum": (lambda lib: lib.nn.L1Loss(reduction="sum"), (3, 4), (3, 4)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_pytorch(name):
    build, *shapes = LAYERS[name]
    check_layer(build, *shapes)


def test_batch_norm_eval_uses_running_statistics():
    def build(lib):
        layer = lib.nn.BatchNorm2d(3)
        layer.train()
        layer(lib.randn(4, 3, 5, 5) * 3 + 1)
        return layer

    check_layer(build, (2, 3, 5, 5), train=False)
    for lib in LIBS:
        layer = lib.nn.BatchNorm1d(2)
        for _ in range(3):
            layer(lib.ones(4, 2))
        assert int(layer.num_batches_tracked) == 3
        layer.eval()
        layer(lib.ones(4, 2))
        assert int(layer.num_batches_tracked) == 3


def test_dropout():
    x = ember.ones(1000)
    drop = nn.Dropout(0.25)
    out = drop(x)
    kept = out._data != 0
    assert 0.65 < kept.mean() < 0.85
    np.testing.assert_allclose(out._data[kept], 1 / 0.75, rtol=1e-6)
    assert drop.eval()(x) is x or drop.eval()(x).equal(x)
    assert nn.Dropout(0.0)(x).equal(x)
    assert not nn.Dropout(1.0)(x).any()


def loss_inputs(kind):
    logits = torch.randn(6, 4, requires_grad=True)
    if kind == "classes":
        return [logits, torch.tensor([0, 3, 1, 1, 2, 0])]
    if kind == "ignored":
        return [logits, torch.tensor([0, 3, -100, 1, 2, 0])]
    if kind == "log-probabilities":
        return [torch.log_softmax(logits.detach(), 1).requires_grad_(),
                torch.tensor([0, 3, 1, 1, 2, 0])]
    if kind == "probabilities":
        return [torch.rand(6, 4).clamp(0.05, 0.95).requires_grad_(), torch.rand(6, 4)]
    return [logits, torch.rand(6, 4)]


LOSSES = {
    "cross entropy": (lambda lib: lib.nn.CrossEntropyLoss(), "classes"),
    "cross entropy options": (lambda lib: lib.nn.CrossEntropyLoss(
        weight=lib.tensor([1.0, 2.0, 0.5, 1.0]), reduction="sum", label_smoothing=0.1),
        "classes"),
    "cross entropy ignore": (lambda lib: lib.nn.CrossEntropyLoss(), "ignored"),
    "cross entropy probabilities": (lambda lib: lib.nn.CrossEntropyLoss(), "soft"),
    "nll": (lambda lib: lib.nn.NLLLoss(weight=lib.tensor([1.0, 2.0, 0.5, 1.0])),
            "log-probabilities"),
    "nll none": (lambda lib: lib.nn.NLLLoss(reduction="none", ignore_index=1),
                 "log-probabilities"),
    "bce": (lambda lib: lib.nn.BCELoss(), "probabilities"),
    "bce weighted": (lambda lib: lib.nn.BCELoss(weight=lib.rand(4) + 0.5), "probabilities"),
    "bce with logits": (lambda lib: lib.nn.BCEWithLogitsLoss(pos_weight=lib.tensor(
        [1.0, 2.0, 3.0, 0.5])), "soft"),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_matches_pytorch(name):
    build, kind = LOSSES[name]
    check_layer(build, inputs=loss_inputs(kind))


def test_loss_buffers_and_legacy_reduction():
    loss = nn.CrossEntropyLoss(weight=ember.ones(3))
    assert [n for n, _ in loss.named_buffers()] == ["weight"]
    assert list(nn.BCEWithLogitsLoss().state_dict()) == []
    with pytest.warns(UserWarning, match="please use reduction='sum' instead"):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning, match="please use reduction='none' instead"):
        assert nn.L1Loss(reduce=False).reduction == "none"


def test_tutorial_training_step_matches_pytorch():
    ember_net, torch_net = tutorial_net(ember), tutorial_net(torch)
    copy_weights(ember_net, torch_net)
    x, target = torch.randn(2, 1, 32, 32), torch.randn(2, 10)
    for net, lib, inputs in ((ember_net, ember, (to_ember(x), to_ember(target))),
                             (torch_net, torch, (x, target))):
        net.zero_grad()
        lib.nn.MSELoss()(net(inputs[0]), inputs[1]).backward()
    for (name, ember_p), torch_p in zip(ember_net.named_parameters(), torch_net.parameters()):
        np.testing.assert_allclose(as_numpy(ember_p.grad), as_numpy(torch_p.grad), rtol=1e-4,
                                   atol=1e-6, err_msg=name)


# ---- copying and pickling ------------------------------------------------------------------


def test_deepcopy_and_pickle_module():
    model = nested_sequential(ember)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert str(clone) == str(model)
        for (name, p), q in zip(model.state_dict().items(), clone.state_dict().values()):
            assert p.equal(q) and p._data is not q._data, name
        assert clone.features[0].weight is clone.get_parameter("features.0.weight")
        assert all(isinstance(p, nn.Parameter) for p in clone.parameters())
        assert clone.get_buffer("features.1.running_mean") is clone.features[1].running_mean


# ---- init --------------------------------------------------------------------------------


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv2d", None), ("conv_transpose3d", None), ("sigmoid", None),
    ("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
    ("leaky_relu", math.sqrt(5)), ("leaky_relu", 0), ("selu", None)])
def test_calculate_gain(nonlinearity, param):
    assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param))


@pytest.mark.parametrize("shape", [(3, 5), (6, 1, 3, 3), (4, 2, 3, 5, 2), (0, 3)])
def test_fan_in_and_fan_out(shape):
    assert nn.init._calculate_fan_in_and_fan_out(ember.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def init_errors(lib):
    init = lib.nn.init
    return {
        "gain": lambda: init.calculate_gain("foo"),
        "slope": lambda: init.calculate_gain("leaky_relu", "x"),
        "fan of a vector": lambda: init.kaiming_uniform_(lib.ones(3)),
        "mode": lambda: init.kaiming_normal_(lib.ones(3, 3), mode="x"),
        "xavier of a vector": lambda: init.xavier_uniform_(lib.ones(3)),
    }


@pytest.mark.parametrize("case", list(init_errors(torch)))
def test_init_errors_match_pytorch(case):
    messages = []
    for lib in LIBS:
        with pytest.raises(ValueError) as error:
            init_errors(lib)[case]()
        messages.append(str(error.value))
    assert messages[0] == messages[1]


INIT_SCHEMES = {
    "uniform": (lambda init, t: init.uniform_(t, -0.5, 1.5), 1.0 / math.sqrt(3), 0.5),
    "normal": (lambda init, t: init.normal_(t, 1.0, 0.1), 0.1, 1.0),
    "xavier uniform": (lambda init, t: init.xavier_uniform_(t, gain=2.0),
                       2.0 * math.sqrt(2.0 / (200 + 100)), 0.0),
    "xavier normal": (lambda init, t: init.xavier_normal_(t), math.sqrt(2.0 / (200 + 100)), 0.0),
    "kaiming uniform": (lambda init, t: init.kaiming_uniform_(t, nonlinearity="relu"),
                        math.sqrt(2.0 / 100), 0.0),
    "kaiming normal fan out": (lambda init, t: init.kaiming_normal_(t, a=0.1, mode="fan_out"),
                               math.sqrt(2.0 / 1.01 / 200), 0.0),
    "trunc normal": (lambda init, t: init.trunc_normal_(t, std=0.02), 0.02, 0.0),
    "trunc normal narrow": (lambda init, t: init.trunc_normal_(t, mean=0.5, a=0.0, b=1.0), None,
                            None),
    "trunc normal one-sided": (lambda init, t: init.trunc_normal_(t, a=-0.5, b=3.0), None, None),
}
TRUNCATION = {"trunc normal narrow": (0.0, 1.0), "trunc normal one-sided": (-0.5, 3.0)}


@pytest.mark.parametrize("name", list(INIT_SCHEMES))
def test_init_statistics_match_pytorch(name):
    fill, std, mean = INIT_SCHEMES[name]
    ember_tensor = fill(nn.init, nn.Parameter(ember.empty(200, 100)))
    torch_tensor = fill(torch.nn.init, torch.nn.Parameter(torch.empty(200, 100)))
    assert isinstance(ember_tensor, nn.Parameter) and ember_tensor.requires_grad
    values = as_numpy(ember_tensor).astype(np.float64)
    reference = as_numpy(torch_tensor).astype(np.float64)
    if std is not None:
        assert values.std() == pytest.approx(std, rel=0.03)
        assert values.mean() == pytest.approx(mean, abs=0.03 * std)
    assert values.std() == pytest.approx(reference.std(), rel=0.03)
    assert values.mean() == pytest.approx(reference.mean(), abs=0.03 * reference.std())
    if name in TRUNCATION:
        low, high = TRUNCATION[name]
        assert low <= values.min() < low + 0.01 and high - 0.01 < values.max() <= high


def test_trunc_normal_uses_an_accurate_inverse_error_function():
    x = np.linspace(-0.999999, 0.999999, 20001)
    np.testing.assert_allclose(nn.init._erfinv(x), torch.erfinv(torch.tensor(x)).numpy(),
                               rtol=1e-6, atol=1e-6)


def test_constant_inits_and_generator():
    weight = nn.Parameter(ember.empty(2, 3))
    assert nn.init.constant_(weight, 0.5) is weight and weight.tolist() == [[0.5] * 3] * 2
    assert nn.init.zeros_(weight).abs().sum().item() == 0
    assert nn.init.ones_(weight).sum().item() == 6
    first = nn.init.normal_(ember.empty(5), generator=ember.Generator().manual_seed(3))
    second = nn.init.normal_(ember.empty(5), generator=ember.Generator().manual_seed(3))
    assert first.equal(second)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.init.kaiming_uniform_(ember.empty(0, 3))
        nn.init.trunc_normal_(ember.empty(3), mean=10)
    assert [str(w.message) for w in caught] == [
        "Initializing zero-element tensors is a no-op",
        "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of "
        "values may be incorrect."]


# ---- utils -------------------------------------------------------------------------------------


@pytest.mark.parametrize("norm_type, max_norm", [(2.0, 1.0), (1.0, 0.5), (math.inf, 0.2),
                                                 (2.0, 100.0), (3, 1.0)])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm):
    grads = [torch.randn(3, 4), torch.randn(5)]
    results = []
    for lib in LIBS:
        params = [lib.nn.Parameter(lib.zeros(*g.shape)) for g in grads]
        params.append(lib.nn.Parameter(lib.zeros(2)))  # no gradient: skipped
        for param, grad in zip(params, grads):
            param.grad = to_ember(grad) if lib is ember else grad.clone()
        total = lib.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
        results.append((as_numpy(total), [as_numpy(p.grad) for p in params[:2]]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-5)
    for ember_grad, torch_grad in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(ember_grad, torch_grad, rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_edge_cases():
    param = nn.Parameter(ember.zeros(2))
    assert nn.utils.clip_grad_norm_([param], 1.0).item() == 0.0  # no gradients at all
    param.grad = ember.tensor([3.0, 4.0])
    assert nn.utils.clip_grad_norm_(param, 1.0).item() == pytest.approx(5.0)
    param.grad = ember.tensor([float("inf"), 4.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients"):
        nn.utils.clip_grad_norm_([param], 1.0, error_if_nonfinite=True)


def _clip_case(case: str, dtype) -> list:
    """Gradients for the clipping tests: NumPy arrays, views and odd values."""
    rng = np.random.default_rng(7)
    grads = [rng.standard_normal((5, 3)), rng.standard_normal(7), np.asarray(2.5),
             np.zeros((0, 4)), rng.standard_normal((4, 6)).T]  # a transposed view too
    if case == "small":  # a norm under max_norm: nothing scaled
        grads = [np.asarray(g * 1e-3) for g in grads]
    elif case == "nan":
        grads[1][2] = np.nan
    elif case == "inf":
        grads[0][1, 1] = -np.inf
    elif case == "zero":
        grads = [np.zeros_like(g) for g in grads]
    return [g.astype(dtype) if g.flags.c_contiguous or g.ndim < 2 else g.T.astype(dtype).T
            for g in grads]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ["large", "small", "nan", "inf", "zero"])
def test_clip_grad_norm_direct_path_matches_ops_and_pytorch(case, dtype, monkeypatch):
    """The 2-norm clipping on NumPy arrays directly gives the ops path's bits, and PyTorch's
    numbers; gradients are scaled in place (views write through) and their versions bumped."""
    from ember.nn.utils import clip_grad

    def clipped(direct: bool):
        arrays = _clip_case(case, dtype)
        params = [nn.Parameter(ember.zeros(*a.shape, dtype=ember.from_numpy(a).dtype))
                  for a in arrays]
        for param, array in zip(params, arrays):
            param.grad = ember.from_numpy(array)
        versions = [p.grad._version[0] for p in params]
        with monkeypatch.context() as patch:
            if not direct:
                patch.setattr(clip_grad, "_direct_arrays", lambda grads: None)
            total = nn.utils.clip_grad_norm_(params, 1.0)
        assert [p.grad._version[0] for p in params] == [v + 1 for v in versions]
        assert all(p.grad._data is a for p, a in zip(params, arrays))  # scaled in place
        return total, [p.grad.numpy() for p in params]

    total, grads = clipped(direct=True)
    ops_total, ops_grads = clipped(direct=False)
    assert total.dtype == ops_total.dtype and total.shape == ()
    np.testing.assert_array_equal(total.numpy(), ops_total.numpy())
    for grad, ops_grad in zip(grads, ops_grads):
        np.testing.assert_array_equal(grad, ops_grad)
    torch_params = [torch.nn.Parameter(torch.zeros(a.shape, dtype=torch.from_numpy(a).dtype))
                    for a in _clip_case(case, dtype)]
    for param, array in zip(torch_params, _clip_case(case, dtype)):
        param.grad = torch.from_numpy(array.copy())
    torch_total = torch.nn.utils.clip_grad_norm_(torch_params, 1.0)
    np.testing.assert_allclose(total.numpy(), torch_total.numpy(), rtol=1e-5)
    for grad, param in zip(grads, torch_params):
        np.testing.assert_allclose(grad, param.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_ops_path_for_graph_and_mixed_dtypes():
    """Gradients that are part of a graph or of mixed dtypes take the ops path: the direct
    one does not apply to them."""
    from ember.nn.utils import clip_grad
    weight = ember.ones(3, requires_grad=True)
    graph_grad = weight * 2
    assert clip_grad._direct_arrays([graph_grad]) is None
    assert clip_grad._direct_arrays([ember.ones(2), ember.ones(2, dtype=ember.float64)]) is None
    assert clip_grad._direct_arrays([ember.ones(2, dtype=ember.float16)]) is None
    assert clip_grad._direct_arrays([ember.ones(4).expand(3, 4)]) is None  # not one block
    param = nn.Parameter(ember.zeros(2))
    param.grad = ember.tensor([3.0, 4.0], dtype=ember.float64)
    other = nn.Parameter(ember.zeros(1))
    other.grad = ember.tensor([0.0])
    assert nn.utils.clip_grad_norm_([param, other], 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(param.grad.numpy(), [0.6, 0.8], rtol=1e-6)


def test_clip_grad_value():
    param = nn.Parameter(ember.zeros(4))
    param.grad = ember.tensor([-3.0, -0.5, 0.5, 3.0])
    assert nn.utils.clip_grad_value_([param], 1.0) is None
    assert param.grad.tolist() == [-1.0, -0.5, 0.5, 1.0]


def test_parameters_to_vector_and_back():
    model = tutorial_net(ember)
    vector = nn.utils.parameters_to_vector(model.parameters())
    assert vector.shape == (sum(p.numel() for p in model.parameters()),)
    nn.utils.vector_to_parameters(ember.arange(vector.numel(), dtype=ember.float32),
                                  model.parameters())
    assert model.conv1.weight[0, 0, 0].tolist() == [0.0, 1.0, 2.0]
    assert model.conv1.bias[0].item() == 54.0
    with pytest.raises(TypeError, match="expected ember.Tensor, but got: list"):
        nn.utils.vector_to_parameters([1.0], model.parameters())
