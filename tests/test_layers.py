"""The layers beyond the tutorial's (activations, convolutions, pooling, resampling,
normalization, dropout, padding, distances) against PyTorch's.

Each case builds the same layer in both libraries, copies PyTorch's parameters and buffers into
ember's through ``load_state_dict``, and compares the printed form, the state_dict keys, the
forward output and the gradients of the input and of every parameter.
"""

import numpy as np
import pytest
import torch

import ember

RTOL, ATOL = 1e-4, 1e-5


def _to_numpy(tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def _copy_weights(ours, theirs) -> None:
    ours.load_state_dict({key: ember.tensor(value.detach().numpy())
                          for key, value in theirs.state_dict().items()})


def _check_layer(build, shapes, rng, grad=True, train=True, args=()):
    """``build(lib)`` in both libraries, run on random inputs of ``shapes``: equal repr,
    state_dict keys, output, and gradients of the inputs and parameters."""
    ours, theirs = build(ember), build(torch)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy_weights(ours, theirs)
    ours.train(train)
    theirs.train(train)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    inputs = [ember.tensor(a, requires_grad=grad) for a in arrays]
    references = [torch.tensor(a, requires_grad=grad) for a in arrays]
    output, expected = ours(*inputs, *args), theirs(*references, *args)
    np.testing.assert_allclose(_to_numpy(output), expected.detach().numpy(), rtol=RTOL,
                               atol=ATOL)
    assert output.shape == tuple(expected.shape)
    if not grad:
        return ours, theirs
    weights = rng.standard_normal(tuple(expected.shape)).astype(np.float32)
    (output * ember.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for mine, reference in zip(inputs, references):
        np.testing.assert_allclose(_to_numpy(mine.grad), reference.grad.numpy(), rtol=RTOL,
                                   atol=ATOL)
    for (name, mine), (_, reference) in zip(ours.named_parameters(),
                                            theirs.named_parameters()):
        np.testing.assert_allclose(_to_numpy(mine.grad), reference.grad.numpy(), rtol=RTOL,
                                   atol=ATOL, err_msg=name)
    for (name, mine), (_, reference) in zip(ours.named_buffers(), theirs.named_buffers()):
        np.testing.assert_allclose(_to_numpy(mine), reference.numpy(), rtol=RTOL, atol=ATOL,
                                   err_msg=name)
    return ours, theirs


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ---- activations ----------------------------------------------------------------------------

ACTIVATIONS = {
    "Mish": lambda nn: nn.Mish(), "Mish-inplace": lambda nn: nn.Mish(inplace=True),
    "Hardswish": lambda nn: nn.Hardswish(), "Hardswish-inplace": lambda nn: nn.Hardswish(True),
    "Hardsigmoid": lambda nn: nn.Hardsigmoid(), "SELU": lambda nn: nn.SELU(),
    "SELU-inplace": lambda nn: nn.SELU(True), "CELU": lambda nn: nn.CELU(0.5),
    "CELU-inplace": lambda nn: nn.CELU(inplace=True), "PReLU": lambda nn: nn.PReLU(),
    "PReLU-channels": lambda nn: nn.PReLU(3, init=0.1), "Softsign": lambda nn: nn.Softsign(),
    "Tanhshrink": lambda nn: nn.Tanhshrink(), "Threshold": lambda nn: nn.Threshold(0.1, 20),
    "Threshold-inplace": lambda nn: nn.Threshold(0.1, 2.0, True),
    "LogSigmoid": lambda nn: nn.LogSigmoid(), "Softmin": lambda nn: nn.Softmin(1),
    "Softmax2d": lambda nn: nn.Softmax2d(), "GLU": lambda nn: nn.GLU(-2),
    "Hardshrink": lambda nn: nn.Hardshrink(), "Softshrink": lambda nn: nn.Softshrink(0.3),
    "ReLU6": lambda nn: nn.ReLU6(), "ReLU6-inplace": lambda nn: nn.ReLU6(True),
    "Hardtanh": lambda nn: nn.Hardtanh(-2, 2), "GELU-tanh": lambda nn: nn.GELU("tanh"),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_matches_torch(name, rng):
    build = ACTIVATIONS[name]
    inplace = "inplace" in name
    ours, theirs = build(ember.nn), build(torch.nn)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy_weights(ours, theirs)
    array = (rng.standard_normal((2, 3, 4, 4)) * 3).astype(np.float32)
    x, reference = ember.tensor(array, requires_grad=True), torch.tensor(array,
                                                                         requires_grad=True)
    # An in-place layer needs a non-leaf input.
    output = ours(x * 1 if inplace else x)
    expected = theirs(reference * 1 if inplace else reference)
    np.testing.assert_allclose(_to_numpy(output), expected.detach().numpy(), rtol=RTOL,
                               atol=ATOL)
    assert output.grad_fn.name() == expected.grad_fn.name()
    weights = rng.standard_normal(tuple(expected.shape)).astype(np.float32)
    (output * ember.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(_to_numpy(x.grad), reference.grad.numpy(), rtol=RTOL, atol=ATOL)
    for (_, mine), (_, other) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(_to_numpy(mine.grad), other.grad.numpy(), rtol=RTOL,
                                   atol=ATOL)


def test_activation_errors_like_torch():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="^Softmax2d: expected input to be 3D or 4D, got "
                                             "2D instead$"):
            lib.nn.Softmax2d()(lib.ones(2, 3))
        with pytest.raises(AssertionError):
            lib.nn.Hardtanh(1.0, -1.0)


# ---- layers with parameters or shapes of their own ----------------------------------------

# name -> (build(nn), input shapes, forward args after the inputs)
LAYERS = {
    "Conv1d": (lambda nn: nn.Conv1d(4, 6, 3), [(2, 4, 9)]),
    "Conv1d-options": (lambda nn: nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2,
                                            bias=False), [(2, 4, 9)]),
    "Conv1d-same-reflect": (lambda nn: nn.Conv1d(3, 2, 4, padding="same",
                                                 padding_mode="reflect"), [(2, 3, 8)]),
    "Conv1d-circular": (lambda nn: nn.Conv1d(3, 2, 3, padding=1, padding_mode="circular"),
                        [(3, 7)]),
    "Conv2d-groups-same": (lambda nn: nn.Conv2d(4, 8, 3, padding="same", groups=4),
                           [(2, 4, 6, 6)]),
    "Conv2d-replicate": (lambda nn: nn.Conv2d(2, 3, (3, 2), padding=(1, 2),
                                              padding_mode="replicate"), [(1, 2, 5, 5)]),
    "ConvTranspose2d": (lambda nn: nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1,
                                                      bias=False), [(2, 8, 4, 4)]),
    "ConvTranspose2d-options": (lambda nn: nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 3),
                                                              padding=(1, 0),
                                                              output_padding=(1, 2), groups=2,
                                                              dilation=(2, 1)), [(2, 4, 3, 4)]),
    "ConvTranspose1d": (lambda nn: nn.ConvTranspose1d(4, 2, 3, stride=2, output_padding=1),
                        [(2, 4, 5)]),
    "MaxPool1d": (lambda nn: nn.MaxPool1d(3, 2, 1, ceil_mode=True), [(2, 3, 10)]),
    "AvgPool1d": (lambda nn: nn.AvgPool1d(3, 2, 1, count_include_pad=False), [(2, 3, 10)]),
    "AdaptiveAvgPool1d": (lambda nn: nn.AdaptiveAvgPool1d(4), [(2, 3, 10)]),
    "AdaptiveMaxPool1d": (lambda nn: nn.AdaptiveMaxPool1d(3), [(2, 3, 10)]),
    "AdaptiveMaxPool2d": (lambda nn: nn.AdaptiveMaxPool2d((2, None)), [(2, 3, 5, 4)]),
    "Upsample-nearest": (lambda nn: nn.Upsample(scale_factor=2), [(2, 3, 4, 5)]),
    "Upsample-bilinear": (lambda nn: nn.Upsample(size=(7, 3), mode="bilinear"), [(2, 3, 4, 5)]),
    "Upsample-linear": (lambda nn: nn.Upsample(scale_factor=1.5, mode="linear",
                                               align_corners=True), [(2, 3, 6)]),
    "UpsamplingNearest2d": (lambda nn: nn.UpsamplingNearest2d(size=5), [(1, 2, 3, 3)]),
    "UpsamplingBilinear2d": (lambda nn: nn.UpsamplingBilinear2d(scale_factor=2),
                             [(1, 2, 3, 3)]),
    "PixelShuffle": (lambda nn: nn.PixelShuffle(2), [(2, 8, 3, 3)]),
    "PixelUnshuffle": (lambda nn: nn.PixelUnshuffle(2), [(2, 2, 4, 6)]),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name, rng):
    build, shapes, *args = LAYERS[name]
    _check_layer(lambda lib: build(lib.nn), shapes, rng, args=tuple(args[0]) if args else ())


def test_conv_transpose_output_size_matches_torch(rng):
    def build(lib):
        return lib.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)

    ours, theirs = build(ember), build(torch)
    _copy_weights(ours, theirs)
    array = rng.standard_normal((1, 3, 5, 5)).astype(np.float32)
    for size in ([10, 10], (1, 2, 9, 10)):
        output = ours(ember.tensor(array), output_size=size)
        expected = theirs(torch.tensor(array), output_size=size)
        np.testing.assert_allclose(_to_numpy(output), expected.detach().numpy(), rtol=RTOL,
                                   atol=ATOL)
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="requested an output size of"):
            build(lib)(lib.ones(1, 3, 5, 5), output_size=[12, 12])
        with pytest.raises(ValueError, match='^Only "zeros" padding mode is supported for '
                                             "ConvTranspose2d$"):
            lib.nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")


def test_conv_default_init_bounds_match_torch():
    """kaiming-uniform(a=sqrt(5)): weight and bias within 1/sqrt(fan_in); fan_in of a
    transposed convolution counts its weight's dimension 1 (out_channels / groups)."""
    for build, fan_in in ((lambda nn: nn.Conv1d(4, 6, 3), 12),
                          (lambda nn: nn.ConvTranspose2d(4, 6, 3, groups=2), 27)):
        layer = build(ember.nn)
        bound = 1 / np.sqrt(fan_in)
        for parameter in (layer.weight, layer.bias):
            values = _to_numpy(parameter)
            assert np.abs(values).max() <= bound
            assert np.abs(values).max() > bound / 2
