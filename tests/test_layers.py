"""The layers beyond the tutorial's (activations, convolutions, pooling, resampling,
normalization, dropout, padding, distances) against PyTorch's.

Each case builds the same layer in both libraries, copies PyTorch's parameters and buffers into
ember's through ``load_state_dict``, and compares the printed form, the state_dict keys, the
forward output and the gradients of the input and of every parameter.
"""

import numpy as np
import pytest
import torch
from twins import as_numpy, copy_weights

import ember

RTOL, ATOL = 1e-4, 1e-5


def _check_layer(build, shapes, rng, grad=True, train=True, args=()):
    """``build(lib)`` in both libraries, run on random inputs of ``shapes``: equal repr,
    state_dict keys, output, and gradients of the inputs and parameters."""
    ours, theirs = build(ember), build(torch)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_weights(ours, theirs)
    ours.train(train)
    theirs.train(train)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    inputs = [ember.tensor(a, requires_grad=grad) for a in arrays]
    references = [torch.tensor(a, requires_grad=grad) for a in arrays]
    output, expected = ours(*inputs, *args), theirs(*references, *args)
    np.testing.assert_allclose(as_numpy(output), expected.detach().numpy(), rtol=RTOL,
                               atol=ATOL)
    assert output.shape == tuple(expected.shape)
    if not grad:
        return ours, theirs
    weights = rng.standard_normal(tuple(expected.shape)).astype(np.float32)
    (output * ember.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for mine, reference in zip(inputs, references):
        np.testing.assert_allclose(as_numpy(mine.grad), reference.grad.numpy(), rtol=RTOL,
                                   atol=ATOL)
    for (name, mine), (_, reference) in zip(ours.named_parameters(),
                                            theirs.named_parameters()):
        np.testing.assert_allclose(as_numpy(mine.grad), reference.grad.numpy(), rtol=RTOL,
                                   atol=ATOL, err_msg=name)
    for (name, mine), (_, reference) in zip(ours.named_buffers(), theirs.named_buffers()):
        np.testing.assert_allclose(as_numpy(mine), reference.numpy(), rtol=RTOL, atol=ATOL,
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
    copy_weights(ours, theirs)
    array = (rng.standard_normal((2, 3, 4, 4)) * 3).astype(np.float32)
    x, reference = ember.tensor(array, requires_grad=True), torch.tensor(array,
                                                                         requires_grad=True)
    # An in-place layer needs a non-leaf input.
    output = ours(x * 1 if inplace else x)
    expected = theirs(reference * 1 if inplace else reference)
    np.testing.assert_allclose(as_numpy(output), expected.detach().numpy(), rtol=RTOL,
                               atol=ATOL)
    assert output.grad_fn.name() == expected.grad_fn.name()
    weights = rng.standard_normal(tuple(expected.shape)).astype(np.float32)
    (output * ember.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), reference.grad.numpy(), rtol=RTOL, atol=ATOL)
    for (_, mine), (_, other) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(as_numpy(mine.grad), other.grad.numpy(), rtol=RTOL,
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
    "Upsample-bicubic": (lambda nn: nn.Upsample(scale_factor=(2, 1.5), mode="bicubic"),
                         [(2, 3, 4, 5)]),
    "UpsamplingBilinear2d": (lambda nn: nn.UpsamplingBilinear2d(scale_factor=2),
                             [(1, 2, 3, 3)]),
    "PixelShuffle": (lambda nn: nn.PixelShuffle(2), [(2, 8, 3, 3)]),
    "PixelUnshuffle": (lambda nn: nn.PixelUnshuffle(2), [(2, 2, 4, 6)]),
    "GroupNorm": (lambda nn: nn.GroupNorm(2, 4), [(3, 4, 5)]),
    "GroupNorm-no-affine": (lambda nn: nn.GroupNorm(3, 6, eps=1e-3, affine=False),
                            [(2, 6, 3, 3)]),
    "InstanceNorm1d": (lambda nn: nn.InstanceNorm1d(3), [(2, 3, 6)]),
    "InstanceNorm2d-affine-stats": (lambda nn: nn.InstanceNorm2d(3, affine=True,
                                                                 track_running_stats=True),
                                    [(2, 3, 4, 4)]),
    "InstanceNorm2d-unbatched": (lambda nn: nn.InstanceNorm2d(3), [(3, 4, 4)]),
    "InstanceNorm3d": (lambda nn: nn.InstanceNorm3d(2, affine=True), [(2, 2, 2, 3, 3)]),
    "BatchNorm3d": (lambda nn: nn.BatchNorm3d(2), [(2, 2, 3, 3, 3)]),
    "RMSNorm": (lambda nn: nn.RMSNorm(5), [(2, 3, 5)]),
    "RMSNorm-shape-eps": (lambda nn: nn.RMSNorm([3, 5], eps=1e-4, elementwise_affine=False),
                          [(2, 3, 5)]),
    "LocalResponseNorm": (lambda nn: nn.LocalResponseNorm(3), [(2, 5, 3, 3)]),
    "ZeroPad2d": (lambda nn: nn.ZeroPad2d((1, 1, 2, 0)), [(2, 3, 4, 4)]),
    "ZeroPad1d": (lambda nn: nn.ZeroPad1d(2), [(2, 3, 4)]),
    "ConstantPad1d": (lambda nn: nn.ConstantPad1d((2, 1), 3.5), [(2, 3, 4)]),
    "ConstantPad2d": (lambda nn: nn.ConstantPad2d(1, -1.0), [(2, 3, 4)]),
    "ConstantPad3d": (lambda nn: nn.ConstantPad3d((1, 0, 0, 1, 1, 1), 2), [(1, 2, 3, 3)]),
    "ReflectionPad1d": (lambda nn: nn.ReflectionPad1d(2), [(2, 3, 4)]),
    "ReflectionPad2d": (lambda nn: nn.ReflectionPad2d((1, 2, 0, 1)), [(2, 3, 4, 4)]),
    "ReplicationPad2d": (lambda nn: nn.ReplicationPad2d(2), [(1, 3, 4, 4)]),
    "ReplicationPad1d": (lambda nn: nn.ReplicationPad1d((3, 0)), [(1, 3, 4)]),
    "CircularPad2d": (lambda nn: nn.CircularPad2d(1), [(1, 2, 3, 3)]),
    "ReflectionPad3d": (lambda nn: nn.ReflectionPad3d(1), [(1, 2, 3, 3, 3)]),
    "Bilinear": (lambda nn: nn.Bilinear(3, 4, 5), [(6, 3), (6, 4)]),
    "Unfold": (lambda nn: nn.Unfold((2, 3), padding=1, stride=2), [(2, 3, 5, 6)]),
    "Fold": (lambda nn: nn.Fold((4, 5), 2), [(2, 8, 12)]),
    "Bilinear-3d-no-bias": (lambda nn: nn.Bilinear(2, 3, 4, bias=False), [(2, 5, 2), (2, 5, 3)]),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name, rng):
    build, shapes, *args = LAYERS[name]
    _check_layer(lambda lib: build(lib.nn), shapes, rng, args=tuple(args[0]) if args else ())


def test_conv_transpose_output_size_matches_torch(rng):
    def build(lib):
        return lib.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)

    ours, theirs = build(ember), build(torch)
    copy_weights(ours, theirs)
    array = rng.standard_normal((1, 3, 5, 5)).astype(np.float32)
    for size in ([10, 10], (1, 2, 9, 10)):
        output = ours(ember.tensor(array), output_size=size)
        expected = theirs(torch.tensor(array), output_size=size)
        np.testing.assert_allclose(as_numpy(output), expected.detach().numpy(), rtol=RTOL,
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
            values = as_numpy(parameter)
            assert np.abs(values).max() <= bound
            assert np.abs(values).max() > bound / 2


@pytest.mark.parametrize("name", ["Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                                  "FeatureAlphaDropout"])
def test_channel_and_alpha_dropout(name, rng):
    ours, theirs = getattr(ember.nn, name)(0.4), getattr(torch.nn, name)(0.4)
    assert repr(ours) == repr(theirs)
    shape = {"Dropout1d": (4, 50, 3), "Dropout2d": (4, 50, 2, 3),
             "Dropout3d": (4, 50, 2, 2, 2), "AlphaDropout": (40, 50),
             "FeatureAlphaDropout": (4, 50, 3)}[name]
    x = ember.tensor(rng.standard_normal(shape).astype(np.float32) + 2, requires_grad=True)
    output = ours(x)
    assert output.grad_fn.name() == theirs(torch.ones(shape, requires_grad=True)).grad_fn.name()
    output.sum().backward()
    values, grad = as_numpy(output), as_numpy(x.grad)
    if "Alpha" in name:
        dropped = grad == 0
        scale = 1 / np.sqrt((1.7580993408473766 ** 2 * 0.4 + 1) * 0.6)
        # Kept elements are a * x + b; dropped ones the saturation value, the same constant.
        assert 0.25 < dropped.mean() < 0.55
        assert np.allclose(grad[~dropped], scale)
        assert np.ptp(values[dropped]) < 1e-5
        if name == "FeatureAlphaDropout":  # whole channels
            assert np.all(np.ptp(grad.reshape(shape[0], shape[1], -1), axis=2) == 0)
    else:
        # Each (sample, channel) is kept whole, scaled by 1 / (1 - p), or zeroed whole.
        per_channel = grad.reshape(shape[0], shape[1], -1)
        assert np.all(np.ptp(per_channel, axis=2) == 0)
        kept = per_channel != 0
        np.testing.assert_allclose(per_channel[kept], 1 / 0.6, rtol=1e-6)
        assert 0.2 < (per_channel[..., 0] == 0).mean() < 0.6
    ours.eval()
    assert ours(x) is x
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        getattr(ember.nn, name)(1.5)


def test_dropout1d_rejects_other_ranks_like_torch():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="^dropout1d: Expected 2D or 3D input, but "
                                               "received a 4D input"):
            lib.nn.functional.dropout1d(lib.ones(1, 2, 3, 4))


def test_instance_norm_running_stats_match_torch(rng):
    ours, theirs = ember.nn.InstanceNorm1d(3, track_running_stats=True), \
        torch.nn.InstanceNorm1d(3, track_running_stats=True)
    for _ in range(3):
        array = rng.standard_normal((4, 3, 6)).astype(np.float32)
        ours(ember.tensor(array))
        theirs(torch.tensor(array))
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(as_numpy(getattr(ours, name)),
                                   getattr(theirs, name).numpy(), rtol=1e-5, atol=1e-6)
    ours.eval()
    theirs.eval()
    array = rng.standard_normal((2, 3, 6)).astype(np.float32)
    np.testing.assert_allclose(as_numpy(ours(ember.tensor(array))),
                               theirs(torch.tensor(array)).numpy(), rtol=1e-5, atol=1e-5)


def test_parameter_dict_matches_torch():
    def build(lib):
        return lib.nn.ParameterDict({"b": lib.nn.Parameter(lib.ones(2)), "a": lib.zeros(3)})

    ours, theirs = build(ember), build(torch)
    assert repr(ours).replace("ember", "torch") == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["a", "b"]
    assert isinstance(ours["a"], ember.nn.Parameter)
    ours["c"] = ember.ones(1, 2, dtype=ember.float64)
    theirs["c"] = torch.ones(1, 2, dtype=torch.float64)
    assert repr(ours).replace("ember", "torch") == repr(theirs)
    assert tuple(ours.pop("c").shape) == (1, 2) and list(ours) == ["a", "b"]
    assert ours.get("z", 5) == 5 and "a" in ours and len(ours) == 2
    model = ember.nn.Module()
    model.scales = ours
    assert [name for name, _ in model.named_parameters()] == ["scales.a", "scales.b"]
    with pytest.raises(TypeError, match="Index given to ParameterDict cannot be used as a key"):
        ours[1]
    with pytest.raises(RuntimeError, match="ParameterDict should not be called."):
        ours(1)


# ---- whole programs -------------------------------------------------------------------------

def _dcgan(lib):
    """pytorch/examples dcgan's generator and discriminator, at a small size, initialised by
    its ``weights_init`` through ``Module.apply``."""
    nn = lib.nn
    generator = nn.Sequential(
        nn.ConvTranspose2d(8, 16, 4, 1, 0, bias=False), nn.BatchNorm2d(16), nn.ReLU(True),
        nn.ConvTranspose2d(16, 8, 4, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(True),
        nn.ConvTranspose2d(8, 3, 4, 2, 1, bias=False), nn.Tanh())
    discriminator = nn.Sequential(
        nn.Conv2d(3, 8, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(8, 16, 4, 2, 1, bias=False), nn.BatchNorm2d(16),
        nn.LeakyReLU(0.2, inplace=True), nn.Conv2d(16, 1, 4, 1, 0, bias=False), nn.Sigmoid())

    def weights_init(m):
        name = m.__class__.__name__
        if name.find("Conv") != -1:
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif name.find("BatchNorm") != -1:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)

    generator.apply(weights_init)
    discriminator.apply(weights_init)
    return generator, discriminator


def test_dcgan_training_steps_match_torch(rng):
    (generator, discriminator), (tgenerator, tdiscriminator) = _dcgan(ember), _dcgan(torch)
    assert repr(generator) == repr(tgenerator)
    copy_weights(generator, tgenerator)
    copy_weights(discriminator, tdiscriminator)
    optimizers = [ember.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999))
                  for m in (generator, discriminator)]
    references = [torch.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999))
                  for m in (tgenerator, tdiscriminator)]

    def step(lib, generator, discriminator, optimizers, real, noise):
        criterion = lib.nn.BCELoss()
        optimizer_g, optimizer_d = optimizers
        discriminator.zero_grad()
        output = discriminator(real).view(-1)
        error_real = criterion(output, lib.full((real.shape[0],), 1.0))
        error_real.backward()
        fake = generator(noise)
        error_fake = criterion(discriminator(fake.detach()).view(-1),
                               lib.full((real.shape[0],), 0.0))
        error_fake.backward()
        optimizer_d.step()
        generator.zero_grad()
        error_g = criterion(discriminator(fake).view(-1), lib.full((real.shape[0],), 1.0))
        error_g.backward()
        optimizer_g.step()
        return [error_real.item(), error_fake.item(), error_g.item()]

    for _ in range(3):
        real = rng.uniform(-1, 1, (4, 3, 16, 16)).astype(np.float32)
        noise = rng.standard_normal((4, 8, 1, 1)).astype(np.float32)
        losses = step(ember, generator, discriminator, optimizers, ember.tensor(real),
                      ember.tensor(noise))
        expected = step(torch, tgenerator, tdiscriminator, references, torch.tensor(real),
                        torch.tensor(noise))
        np.testing.assert_allclose(losses, expected, rtol=1e-4)
    for (name, mine), (_, reference) in zip(generator.named_parameters(),
                                            tgenerator.named_parameters()):
        np.testing.assert_allclose(as_numpy(mine), reference.detach().numpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=name)


def test_spatial_transformer_matches_torch(rng):
    """The PyTorch tutorial's spatial transformer: a small network predicts theta, and
    affine_grid with grid_sample resamples the input; gradients reach the network."""
    def build(lib):
        nn = lib.nn
        return nn.Sequential(nn.Flatten(), nn.Linear(2 * 6 * 6, 6), nn.Tanh())

    ours, theirs = build(ember), build(torch)
    copy_weights(ours, theirs)
    array = rng.standard_normal((3, 2, 6, 6)).astype(np.float32)

    def transform(lib, network, x):
        theta = network(x).view(-1, 2, 3) * 0.5 + lib.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        grid = lib.nn.functional.affine_grid(theta, x.size(), align_corners=False)
        return lib.nn.functional.grid_sample(x, grid, align_corners=False)

    x, reference = ember.tensor(array, requires_grad=True), torch.tensor(array,
                                                                         requires_grad=True)
    output, expected = transform(ember, ours, x), transform(torch, theirs, reference)
    np.testing.assert_allclose(as_numpy(output), expected.detach().numpy(), rtol=RTOL,
                               atol=ATOL)
    (output ** 2).sum().backward()
    (expected ** 2).sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), reference.grad.numpy(), rtol=RTOL, atol=ATOL)
    for (name, mine), (_, other) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(as_numpy(mine.grad), other.grad.numpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=name)


def test_class_hierarchy_matches_torch():
    """``isinstance(m, nn.Conv2d)``-style checks in initialisation code see what they see in
    PyTorch: a Conv1d is no Conv2d, a ReLU6 is a Hardtanh."""
    pairs = [("Conv1d", "Conv2d"), ("ConvTranspose1d", "ConvTranspose2d"),
             ("MaxPool1d", "MaxPool2d"), ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d"),
             ("AdaptiveMaxPool1d", "AdaptiveMaxPool2d"), ("Dropout2d", "Dropout"),
             ("AlphaDropout", "Dropout"), ("ReflectionPad2d", "ReflectionPad1d"),
             ("Softshrink", "Hardshrink"), ("ReLU6", "Hardtanh"),
             ("UpsamplingNearest2d", "Upsample"), ("InstanceNorm2d", "BatchNorm2d")]
    for name, other in pairs:
        assert issubclass(getattr(ember.nn, name), getattr(ember.nn, other)) == \
            issubclass(getattr(torch.nn, name), getattr(torch.nn, other)), (name, other)


def test_max_unpool_inverts_max_pool_like_torch(rng):
    array = rng.standard_normal((2, 3, 6, 4)).astype(np.float32)
    results = []
    for lib in (ember, torch):
        pool = lib.nn.MaxPool2d(2, return_indices=True)
        unpool = lib.nn.MaxUnpool2d(2)
        x = lib.tensor(array, requires_grad=True)
        output = unpool(*pool(x))
        (output * output).sum().backward()
        results.append((repr(unpool), output.detach().numpy(), x.grad.numpy()))
        pool1d, unpool1d = lib.nn.MaxPool1d(2, return_indices=True), lib.nn.MaxUnpool1d(2)
        results[-1] += (repr(unpool1d), unpool1d(*pool1d(lib.tensor(array[0]))).numpy())
    for mine, expected in zip(*results):
        if isinstance(mine, str):
            assert mine == expected
        else:
            np.testing.assert_allclose(mine, expected, rtol=RTOL, atol=ATOL)
