"""The modules and switches PyTorch programs use beside the tensor library, compared with
PyTorch's behaviour on this machine: accelerator, default device, backends, amp, cuda, cpu,
onnx, distributed, nn.parallel, multiprocessing, version, thread and precision settings.

Where the machine has no GPU, PyTorch here is a CPU-only build, and ember is CPU-only too
(no CuPy, or no GPU); the tests that compare "no accelerator" behaviour are skipped on a GPU.
"""

import io
import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import ember
from ember import _backend

NO_CUDA = not _backend.cuda_available()
cpu_only = pytest.mark.skipif(not NO_CUDA, reason="compares a machine without CUDA")
with_cuda = pytest.mark.skipif(NO_CUDA, reason="CUDA not available")


def raised(call, *args, **kwargs):
    """``(type, message)`` of the exception ``call(*args, **kwargs)`` raises."""
    with pytest.raises(Exception) as info:
        call(*args, **kwargs)
    return info.type, str(info.value)


def caught_warnings(call, *args, **kwargs):
    """``[(category, message), ...]`` that ``call(*args, **kwargs)`` warns, and its result."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call(*args, **kwargs)
    return [(w.category, str(w.message)) for w in caught], result


# ---- Tensor's name -------------------------------------------------------------------------

def test_tensor_type_reads_ember_tensor():
    assert repr(type(ember.zeros(2))) == "<class 'ember.Tensor'>"
    assert ember.Tensor.__module__ == "ember" and ember.Tensor.__qualname__ == "Tensor"
    assert repr(type(ember.nn.Parameter(ember.zeros(1)))) == \
        "<class 'ember.nn.parameter.Parameter'>"
    restored = pickle.loads(pickle.dumps(ember.arange(3)))
    assert type(restored) is ember.Tensor and restored.tolist() == [0, 1, 2]


# ---- accelerator -----------------------------------------------------------------------------

@cpu_only
def test_accelerator_without_one_is_pytorchs():
    for lib in (torch, ember):
        acc = lib.accelerator
        assert acc.is_available() is False and acc.device_count() == 0
        assert acc.current_accelerator() is None
        assert acc.current_accelerator(check_available=True) is None
    for name, args in (("current_device_index", ()), ("set_device_index", (0,)),
                       ("synchronize", ())):
        expected = raised(getattr(torch.accelerator, name), *args)
        assert raised(getattr(ember.accelerator, name), *args) == expected
    device = (ember.accelerator.current_accelerator().type
              if ember.accelerator.is_available() else "cpu")
    assert device == "cpu"


@with_cuda
def test_accelerator_is_the_gpu():
    acc = ember.accelerator
    assert acc.is_available() and acc.current_accelerator() == ember.device("cuda")
    assert acc.device_count() == ember.cuda.device_count() >= 1
    acc.set_device_index(0)
    assert acc.current_device_index() == 0
    acc.synchronize()


# ---- default device ----------------------------------------------------------------------------

@pytest.fixture
def default_device():
    """Leaves the default device as it was found (the CPU)."""
    yield
    ember.set_default_device(None)


def test_default_device_is_the_cpu(default_device):
    assert repr(ember.get_default_device()) == repr(torch.get_default_device())
    assert ember.get_default_device() == ember.device("cpu")
    ember.set_default_device("cpu")
    assert ember.get_default_device() == ember.device("cpu")
    assert ember.zeros(2).device == ember.tensor([1.0]).device == ember.device("cpu")


def test_default_device_checks_the_name(default_device):
    expected_type, _ = raised(lambda: torch.set_default_device("tpu"))
    assert raised(lambda: ember.set_default_device("tpu")) == (
        expected_type, "Expected one of cpu, cuda device type at start of device string: tpu")
    assert ember.get_default_device() == ember.device("cpu")


@cpu_only
def test_default_cuda_device_fails_when_a_tensor_is_made(default_device):
    """As in PyTorch: setting succeeds, making a tensor there raises."""
    ember.set_default_device("cuda:1")
    assert ember.get_default_device() == ember.device("cuda:1")
    for make in (lambda: ember.zeros(2), lambda: ember.tensor([1.0]), lambda: ember.randn(2),
                 lambda: ember.arange(3), lambda: ember.full((2,), 1.0),
                 lambda: ember.nn.Linear(2, 1)):
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            make()
    ember.set_default_device(None)
    assert ember.zeros(1).device == ember.device("cpu")


@cpu_only
def test_default_cuda_device_without_an_index_is_the_current_gpu(default_device):
    """Which PyTorch finds by making a tensor there: without CUDA that raises."""
    for lib in (torch, ember):
        lib.set_default_device("cuda")
        with pytest.raises((RuntimeError, AssertionError)):  # PyTorch's CPU build: Assertion
            lib.get_default_device()
        lib.set_default_device(None)
    ember.set_default_device("cuda")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        ember.get_default_device()


def test_a_device_is_the_default_inside_a_with_block(default_device):
    for lib in (torch, ember):
        with lib.device("cuda:1") as inside:
            assert inside == lib.device("cuda:1") and lib.get_default_device() == inside
            with lib.device("cpu"):
                assert lib.zeros(1).device == lib.device("cpu")
            assert lib.get_default_device() == lib.device("cuda:1")
        assert lib.get_default_device() == lib.device("cpu")
        assert lib.zeros(1).device == lib.device("cpu")


@with_cuda
def test_default_cuda_device_puts_new_tensors_there(default_device):
    ember.set_default_device("cuda")
    for tensor in (ember.zeros(2), ember.tensor([1.0]), ember.randn(2), ember.arange(3),
                   ember.nn.Linear(2, 1).weight):
        assert tensor.device.type == "cuda"
    assert ember.from_numpy(np.zeros(2)).device == ember.device("cpu")  # shares the array


# ---- backends ----------------------------------------------------------------------------------

def test_backend_flags_have_pytorchs_defaults():
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(ember.backends.cudnn, name) == getattr(torch.backends.cudnn, name), name
    assert ember.backends.cudnn.is_available() is False and ember.backends.cudnn.version() is None
    assert ember.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert ember.backends.mps.is_built() is torch.backends.mps.is_built() is False
    for name in ("allow_tf32", "allow_fp16_reduced_precision_reduction",
                 "allow_bf16_reduced_precision_reduction"):
        assert getattr(ember.backends.cuda.matmul, name) == \
            getattr(torch.backends.cuda.matmul, name), name
    assert ember.backends.cuda.is_built() is (_backend.cupy is not None)


def test_backend_flags_can_be_set_as_programs_do():
    import ember.backends.cudnn as cudnn
    try:
        cudnn.benchmark = True
        assert ember.backends.cudnn.benchmark is True
    finally:
        cudnn.benchmark = False
    for lib in (torch, ember):
        with pytest.raises(AttributeError, match="Unknown attribute foo"):
            lib.backends.cuda.matmul.foo = 1


def test_allow_tf32_and_matmul_precision_are_one_setting():
    for lib in (torch, ember):
        try:
            assert lib.get_float32_matmul_precision() == "highest"
            lib.backends.cuda.matmul.allow_tf32 = True
            assert lib.get_float32_matmul_precision() == "high"
            lib.set_float32_matmul_precision("medium")
            assert lib.backends.cuda.matmul.allow_tf32 is True
            lib.set_float32_matmul_precision("highest")
            assert lib.backends.cuda.matmul.allow_tf32 is False
            caught, _ = caught_warnings(lib.set_float32_matmul_precision, "low")
            assert [c for c, _ in caught] == [UserWarning]
            assert "low is not one of 'highest', 'high', or 'medium'" in caught[0][1]
            assert lib.get_float32_matmul_precision() == "highest"
        finally:
            lib.set_float32_matmul_precision("highest")


# ---- threads -----------------------------------------------------------------------------------

def test_deterministic_algorithms_switch_is_pytorchs():
    try:
        for lib in (torch, ember):
            assert lib.are_deterministic_algorithms_enabled() is False
            lib.use_deterministic_algorithms(True, warn_only=True)
            assert lib.are_deterministic_algorithms_enabled() is True
            assert lib.is_deterministic_algorithms_warn_only_enabled() is True
        for args, kwargs in ((("yes",), {}), ((True,), {"warn_only": 1})):
            assert raised(ember.use_deterministic_algorithms, *args, **kwargs) == \
                raised(torch.use_deterministic_algorithms, *args, **kwargs)
    finally:
        torch.use_deterministic_algorithms(False)
        ember.use_deterministic_algorithms(False)
    assert ember.is_deterministic_algorithms_warn_only_enabled() is False


def test_interop_threads_are_set_once_per_process():
    """In a fresh process, as the setting is once per process in both libraries."""
    program = (
        "import torch, ember\n"
        "for lib in (torch, ember):\n"
        "    assert lib.get_num_interop_threads() >= 1\n"
        "    for bad in (0, 'a'):\n"
        "        try: lib.set_num_interop_threads(bad)\n"
        "        except RuntimeError as e: print(e)\n"
        "    lib.set_num_interop_threads(1)\n"
        "    print(lib.get_num_interop_threads())\n"
        "    try: lib.set_num_interop_threads(2)\n"
        "    except RuntimeError as e: print(e)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(ember.__file__).resolve().parents[1])}
    result = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 8 and lines[:4] == lines[4:]
    assert lines[2] == "1"


# ---- amp: autocast -----------------------------------------------------------------------------

@cpu_only
def test_cuda_autocast_without_cuda_warns_and_does_nothing():
    for lib in (torch, ember):
        caught, region = caught_warnings(lib.autocast, "cuda", dtype=lib.float16)
        assert [c for c, _ in caught] == [UserWarning]
        assert "CUDA is not available" in caught[0][1] and "Disabling autocast" in caught[0][1]
        with region as entered:
            assert entered is region
            y = lib.ones(2, 2) @ lib.ones(2, 2)
        assert y.dtype == lib.float32


def test_cpu_autocast_to_an_unsupported_dtype_warns_as_pytorch():
    expected, _ = caught_warnings(lambda: torch.autocast("cpu", dtype=torch.float64))
    caught, _ = caught_warnings(lambda: ember.autocast("cpu", dtype=ember.float64))
    assert caught == [(UserWarning, message.replace("torch.", "ember."))
                      for _, message in expected]


def test_autocast_that_pytorch_applies_warns_that_ember_does_not():
    caught, region = caught_warnings(lambda: ember.autocast("cpu", dtype=ember.float16))
    assert caught == [(UserWarning, "ember does not implement autocast yet: ops inside "
                       "autocast('cpu', dtype=ember.float16) run in their inputs' dtypes "
                       "(float32 stays float32)")]
    with region:
        assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == ember.float32


def test_disabled_autocast_is_silent_and_decorates():
    for lib in (torch, ember):
        region = lib.autocast("cuda", enabled=False)
        caught, result = caught_warnings(region(lambda x: x * 2), lib.ones(1))
        assert caught == [] and result.tolist() == [2.0]
        assert region.device == "cuda" and region.fast_dtype == lib.float16
        assert lib.autocast("cpu", enabled=False).fast_dtype == lib.bfloat16


def test_autocast_checks_the_device_type():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="device type at start of device string: tpu"):
            lib.autocast("tpu")
        with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
            lib.autocast(0)


def test_deprecated_autocast_names_warn_as_pytorchs():
    for lib in (torch, ember):
        caught, _ = caught_warnings(lib.cpu.amp.autocast, enabled=False)
        assert caught == [(FutureWarning, f"`{lib.__name__}.cpu.amp.autocast(args...)` is "
                           f"deprecated. Please use `{lib.__name__}.amp.autocast('cpu', "
                           "args...)` instead.")]
        caught, _ = caught_warnings(lib.cuda.amp.autocast, enabled=False)
        assert caught[0][0] is FutureWarning and len(caught) == 1
    assert ember.amp.is_autocast_available("cpu") is False  # PyTorch's: True


# ---- amp: GradScaler ---------------------------------------------------------------------------

def models(seed_values=(0.3, -0.2, 0.1)):
    """The same Linear(3, 1) in both libraries, and an SGD optimizer for each."""
    pair = []
    for lib in (torch, ember):
        model = lib.nn.Linear(3, 1)
        with lib.no_grad():
            model.weight.copy_(lib.tensor([list(seed_values)]))
            model.bias.fill_(0.05)
        pair.append((lib, model, lib.optim.SGD(model.parameters(), lr=0.1)))
    return pair


@cpu_only
def test_cuda_gradscaler_without_cuda_disables_itself_as_pytorchs():
    for lib, model, opt in models():
        caught, scaler = caught_warnings(lib.amp.GradScaler)
        assert [c for c, _ in caught] == [UserWarning]
        assert "GradScaler is enabled, but CUDA is not available.  Disabling." in caught[0][1]
        assert not scaler.is_enabled() and scaler.get_scale() == 1.0
        assert scaler.state_dict() == {}
        loss = model(lib.ones(2, 3)).sum()
        assert scaler.scale(loss) is loss
        loss.backward()
        scaler.unscale_(opt)
        assert scaler.step(opt) is None
        scaler.update()
        scaler.load_state_dict({})
    caught, _ = caught_warnings(lambda: ember.cuda.amp.GradScaler())
    assert [c for c, _ in caught] == [FutureWarning, UserWarning]


def test_gradscaler_on_the_cpu_scales_skips_and_adapts_as_pytorchs():
    """Scale, unscale, skip on inf, back off, grow after growth_interval good steps."""
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]], dtype=np.float32)
    runs = []
    for lib, model, opt in models():
        scaler = lib.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=2)
        history = [scaler.get_scale()]
        for step in range(5):
            opt.zero_grad()
            loss = model(lib.tensor(x)).pow(2).mean()
            if step == 1:
                loss = loss * float("inf")  # an overflow: the step is skipped
            scaled = scaler.scale(loss)
            assert scaled.item() == pytest.approx(loss.item() * scaler.get_scale())
            scaled.backward()
            scaler.unscale_(opt)
            grads = [p.grad.numpy().copy() for p in model.parameters()]
            result = scaler.step(opt)
            assert result is None
            scaler.update()
            history.append((scaler.get_scale(), scaler.state_dict()["_growth_tracker"]))
        runs.append((history, grads, [p.detach().numpy() for p in model.parameters()],
                     scaler.state_dict()))
    (history, grads, params, state), expected = runs[1], runs[0]
    assert history == expected[0]
    for ours, theirs in zip(grads + params, expected[1] + expected[2]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert state == expected[3]


def test_gradscaler_scales_lists_tuples_and_iterables():
    scaler = ember.amp.GradScaler("cpu", init_scale=4.0)
    a, b = ember.ones(1), ember.full((1,), 2.0)
    assert [t.tolist() for t in scaler.scale([a, (b,)])[0:1]] == [[4.0]]
    assert scaler.scale((a, [b]))[1][0].tolist() == [8.0]
    assert [t.tolist() for t in scaler.scale(iter([a, b]))] == [[4.0], [8.0]]
    with pytest.raises(ValueError, match="outputs must be a Tensor or an iterable of Tensors"):
        scaler.scale(3.0)


def test_gradscaler_misuse_raises_as_pytorchs():
    def misuses(lib, model, opt):
        def scaler():
            return lib.amp.GradScaler("cpu")

        def backward(s):
            s.scale(model(lib.ones(1, 3)).sum()).backward()
            return s

        def unscale_twice():
            s = backward(scaler())
            s.unscale_(opt)
            s.unscale_(opt)

        def unscale_after_step():
            s = backward(scaler())
            s.step(opt)
            s.unscale_(opt)

        def step_twice():
            s = backward(scaler())
            s.step(opt)
            s.step(opt)

        def half_grads():
            weight = lib.nn.Parameter(lib.ones(2, dtype=lib.float16))
            s = scaler()
            s.scale((weight * 3).sum()).backward()
            s.unscale_(lib.optim.SGD([weight], lr=0.1))

        def no_grads():
            s = scaler()
            s.scale(lib.ones(1))
            opt.zero_grad()
            s.step(opt)

        return [lambda: scaler().update(), lambda: scaler().step(opt), unscale_twice,
                unscale_after_step, step_twice, half_grads, no_grads,
                lambda: scaler().load_state_dict({}),
                lambda: backward(scaler()).step(opt, closure=lambda: None),
                lambda: lib.amp.GradScaler("cpu", growth_factor=1.0),
                lambda: lib.amp.GradScaler("cpu", backoff_factor=1.0)]

    (_, *torch_case), (_, *ember_case) = models()
    for theirs, ours in zip(misuses(torch, *torch_case), misuses(ember, *ember_case)):
        assert raised(ours) == raised(theirs)


def test_gradscaler_state_round_trips():
    for lib in (torch, ember):
        scaler = lib.amp.GradScaler("cpu", init_scale=256.0, growth_interval=7)
        assert scaler.state_dict() == {"scale": 256.0, "growth_factor": 2.0,
                                       "backoff_factor": 0.5, "growth_interval": 7,
                                       "_growth_tracker": 0}
        other = lib.amp.GradScaler("cpu")
        other.load_state_dict({**scaler.state_dict(), "_growth_tracker": 3})
        assert other.get_scale() == 256.0 and other.get_growth_interval() == 7
        assert other.state_dict()["_growth_tracker"] == 3
        other.scale(lib.ones(1))
        other.update(new_scale=8.0)
        assert other.get_scale() == 8.0
        other.update(new_scale=lib.tensor(2.0))
        assert other.get_scale() == 2.0


# ---- bfloat16 ----------------------------------------------------------------------------------

def test_bfloat16_is_a_dtype_no_tensor_can_have():
    assert repr(ember.bfloat16) == "ember.bfloat16" and ember.bfloat16.is_floating_point
    assert ember.bfloat16.itemsize == torch.bfloat16.itemsize == 2
    assert ember.bfloat16 != ember.float16 and ember.bfloat16 != ember.float32
    message = "ember has no bfloat16 tensors: NumPy, which holds ember's data, has no bfloat16"
    for use in (lambda: ember.zeros(2, dtype=ember.bfloat16),
                lambda: ember.tensor([1.0], dtype=ember.bfloat16),
                lambda: ember.ones(2).to(ember.bfloat16)):
        with pytest.raises(TypeError, match=message):
            use()
    assert ember.cuda.is_bf16_supported() is False


def test_bfloat16_pickles_and_saves_as_the_one_dtype():
    """A program's settings may hold the dtype (an autocast config): it round-trips, and
    ember.save writes it as torch.bfloat16, which both loads read."""
    assert pickle.loads(pickle.dumps(ember.bfloat16)) is ember.bfloat16
    buffer = io.BytesIO()
    ember.save({"amp_dtype": ember.bfloat16}, buffer)
    assert ember.load(io.BytesIO(buffer.getvalue()))["amp_dtype"] is ember.bfloat16
    assert torch.load(io.BytesIO(buffer.getvalue()))["amp_dtype"] is torch.bfloat16


# ---- cuda, cpu ---------------------------------------------------------------------------------

@cpu_only
def test_cuda_queries_without_cuda_are_pytorchs():
    for name in ("is_available", "device_count", "is_bf16_supported", "empty_cache",
                 "memory_allocated"):
        assert getattr(ember.cuda, name)() == getattr(torch.cuda, name)(), name
    ember.cuda.manual_seed(1)
    ember.cuda.manual_seed_all(1)
    # PyTorch's CPU-only build raises AssertionError("Torch not compiled with CUDA enabled");
    # a CUDA build on a machine without a GPU raises RuntimeError, as ember does.
    for name in ("synchronize", "current_device", "get_device_name"):
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            getattr(ember.cuda, name)()
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        ember.cuda.set_device(0)


@with_cuda
def test_cuda_queries_with_a_gpu():
    assert isinstance(ember.cuda.get_device_name(), str) and ember.cuda.get_device_name(0)
    x = ember.ones(1024, device="cuda")
    assert ember.cuda.memory_allocated() >= x.numel() * 4
    del x
    ember.cuda.empty_cache()
    ember.cuda.set_device(0)
    assert ember.cuda.current_device() == 0


def test_mps_module_is_pytorchs_without_apple_gpus():
    for name in ("is_available", "device_count"):
        assert getattr(ember.mps, name)() == getattr(torch.mps, name)(), name


def test_cpu_module_is_pytorchs():
    for name in ("is_available", "device_count", "current_device", "synchronize"):
        assert getattr(ember.cpu, name)() == getattr(torch.cpu, name)(), name


# ---- onnx, distributed, nn.parallel ------------------------------------------------------------

def test_onnx_export_says_ember_cannot():
    import ember.onnx
    with pytest.raises(NotImplementedError, match="ember cannot export ONNX models"):
        ember.onnx.export(ember.nn.Linear(2, 1), (ember.ones(1, 2),), "model.onnx")


def test_distributed_without_a_process_group_says_so_as_pytorch():
    import ember.distributed as dist
    assert dist.is_initialized() is torch.distributed.is_initialized() is False
    for lib, tensor in ((dist, ember.ones(2)), (torch.distributed, torch.ones(2))):
        for name, args in (("get_rank", ()), ("get_world_size", ()), ("barrier", ()),
                           ("all_reduce", (tensor,))):
            with pytest.raises(ValueError, match="Default process group has not been "
                                                 "initialized"):
                getattr(lib, name)(*args)
        with pytest.raises(AssertionError, match="Process group cannot be None"):
            lib.destroy_process_group()
    for parallel, nn in ((ember.nn.parallel, ember.nn), (torch.nn.parallel, torch.nn)):
        with pytest.raises(ValueError):  # no process group
            parallel.DistributedDataParallel(nn.Linear(2, 1))
    with pytest.raises(RuntimeError, match="NCCL"):
        dist.init_process_group("nccl")


@cpu_only
def test_data_parallel_without_gpus_wraps_the_module_as_pytorchs():
    theirs = torch.nn.DataParallel(torch.nn.Linear(3, 2))
    ours = ember.nn.parallel.DataParallel(ember.nn.Linear(3, 2))
    assert ember.nn.DataParallel is ember.nn.parallel.DataParallel
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["module.weight",
                                                                    "module.bias"]
    assert ours.device_ids == theirs.device_ids == []
    ours.load_state_dict({k: ember.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    out_t, out_e = theirs(torch.tensor(x, requires_grad=True)), ours(ember.tensor(x))
    np.testing.assert_allclose(out_e.detach().numpy(), out_t.detach().numpy(), rtol=1e-6)
    out_t.sum().backward()
    out_e.sum().backward()
    np.testing.assert_allclose(ours.module.weight.grad.numpy(),
                               theirs.module.weight.grad.numpy(), rtol=1e-6)


# ---- multiprocessing, version ------------------------------------------------------------------

def test_multiprocessing_has_pythons_names_and_pytorchs_sharing_strategy():
    import multiprocessing

    import torch.multiprocessing as theirs

    import ember.multiprocessing as ours
    python_names = [n for n in dir(theirs) if n in multiprocessing.__all__]
    assert len(python_names) > 20
    for name in python_names:
        assert getattr(ours, name) is getattr(multiprocessing, name), name
    for name in ("get_all_sharing_strategies", "get_sharing_strategy"):
        assert getattr(ours, name)() == getattr(theirs, name)(), name
    assert raised(lambda: ours.set_sharing_strategy("x")) == \
        raised(lambda: theirs.set_sharing_strategy("x"))
    try:
        ours.set_sharing_strategy("file_system")
        assert ours.get_sharing_strategy() == "file_system"
    finally:
        ours.set_sharing_strategy("file_descriptor")


def test_version_module():
    assert ember.version.__version__ == ember.__version__ and isinstance(ember.__version__, str)
    if _backend.cupy is None:
        assert ember.version.cuda is torch.version.cuda is None
