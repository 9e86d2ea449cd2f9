"""save / load: PyTorch's checkpoint format in both directions, safety, and atomic saves."""

import collections
import contextlib
import fractions
import io
import os
import pickle
import pickletools
import re
import signal
import struct
import subprocess
import sys
import textwrap
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import ember
from ember import _backend, serialization
from ember._tensor import Tensor
from ember.serialization import load, save

REPO = Path(__file__).resolve().parents[1]

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool",
          "complex64", "complex128"]


# ---- helpers ---------------------------------------------------------------------------------


def from_torch(tensor: torch.Tensor) -> Tensor:
    """An ember tensor with a copy of a torch tensor's values."""
    return Tensor._wrap(tensor.detach().numpy().copy())


def assert_same(ours: Tensor, theirs: torch.Tensor) -> None:
    """Same dtype, shape and values (bit for bit: NaNs and signed zeros included)."""
    assert isinstance(ours, Tensor) and isinstance(theirs, torch.Tensor)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(force=True), theirs.detach().numpy())


def assert_same_tree(ours, theirs) -> None:
    """Walk two nests of containers; tensors compare with assert_same, the rest with ==."""
    if isinstance(theirs, torch.Tensor):
        assert_same(ours, theirs)
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for key in theirs:
            assert_same_tree(ours[key], theirs[key])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same_tree(a, b)
    else:
        assert ours == theirs and type(ours) is type(theirs)


def sample(dtype: str, shape=(2, 3), seed: int = 0) -> np.ndarray:
    """Values of every kind the dtype holds: negatives, fractions, extremes."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype.startswith("complex"):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    if dtype.startswith("float"):
        return (rng.standard_normal(shape) * 100).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


class TorchNet(torch.nn.Module):
    """The shape of the tutorial's network, plus a BatchNorm for int64 and float buffers."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 6, 5)
        self.bn1 = torch.nn.BatchNorm2d(6)
        self.conv2 = torch.nn.Conv2d(6, 16, 5)
        self.fc1 = torch.nn.Linear(16 * 4 * 4, 120)
        self.fc2 = torch.nn.Linear(120, 10)


def torch_state_dict() -> "collections.OrderedDict[str, torch.Tensor]":
    net = TorchNet()
    net.bn1.running_mean.uniform_()
    net.bn1.num_batches_tracked += 7
    return net.state_dict()


def globals_in(data_pkl: bytes) -> set:
    return {arg for opcode, arg, _ in pickletools.genops(data_pkl) if opcode.name == "GLOBAL"}


def data_offsets(path) -> dict:
    """Where each record's bytes start, read from the local headers."""
    raw = Path(path).read_bytes()
    offsets = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name_length, extra_length = struct.unpack_from("<HH", raw, info.header_offset + 26)
            offsets[info.filename] = info.header_offset + 30 + name_length + extra_length
    return offsets


class Call:
    """Pickles as ``function(*args)``: how these tests write a data.pkl by hand."""

    def __init__(self, function, *args) -> None:
        self.function = function
        self.args = args

    def __reduce__(self):
        return self.function, self.args


class StorageRef:
    """A persistent id ``('storage', storage_type, key, location, numel)`` in a data.pkl."""

    def __init__(self, storage_type, key: str, location: str, numel: int) -> None:
        self.id = ("storage", storage_type, key, location, numel)


class HandPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.id if isinstance(obj, StorageRef) else None


def write_checkpoint(path, obj, records=(), folder="archive") -> None:
    """A zip as torch.save lays it out, holding ``obj`` pickled by hand and ``records``."""
    data_pkl = io.BytesIO()
    HandPickler(data_pkl, protocol=2).dump(obj)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{folder}/data.pkl", data_pkl.getvalue())
        for name, data in dict(records).items():
            archive.writestr(f"{folder}/{name}", data)
        archive.writestr(f"{folder}/version", b"3\n")


def rebuild(storage: StorageRef, offset, size, stride, metadata=None) -> Call:
    args = (storage, offset, size, stride, False, collections.OrderedDict())
    return Call(torch._utils._rebuild_tensor_v2, *args, *([metadata] if metadata else []))


# ---- ember.save -> torch.load ----------------------------------------------------------------


def test_state_dict_saved_by_ember_loads_in_torch(tmp_path):
    expected = torch_state_dict()
    ours = collections.OrderedDict((key, from_torch(value)) for key, value in expected.items())
    save(ours, tmp_path / "net.pt")
    loaded = torch.load(tmp_path / "net.pt", weights_only=True)
    assert type(loaded) is collections.OrderedDict and list(loaded) == list(expected)
    for key, value in expected.items():
        assert_same(ours[key], loaded[key])
        assert torch.equal(loaded[key], value)


def test_archive_has_torch_layout(tmp_path):
    expected = torch_state_dict()
    torch.save(expected, tmp_path / "theirs.pt")
    save(collections.OrderedDict((k, from_torch(v)) for k, v in expected.items()),
         tmp_path / "ours.pt")
    with zipfile.ZipFile(tmp_path / "theirs.pt") as theirs, \
            zipfile.ZipFile(tmp_path / "ours.pt") as ours:
        assert [n.replace("theirs/", "") for n in theirs.namelist()] == \
               [n.replace("ours/", "") for n in ours.namelist()]
        assert all(info.compress_type == zipfile.ZIP_STORED for info in ours.infolist())
        for name in ("version", "byteorder", ".format_version", ".storage_alignment"):
            assert ours.read(f"ours/{name}") == theirs.read(f"theirs/{name}")
        assert globals_in(ours.read("ours/data.pkl")) == globals_in(theirs.read("theirs/data.pkl"))
    assert all(offset % 64 == 0 for offset in data_offsets(tmp_path / "ours.pt").values())


def test_torch_computes_our_record_offsets(tmp_path, monkeypatch):
    """torch.load(mmap=True) can compute where each record starts instead of reading headers;
    that works only if our headers, padding and data descriptors are sized as torch's are."""
    config = pytest.importorskip("torch.utils.serialization.config")
    base = ember.arange(20, dtype=ember.float32)
    save({"a": base, "b": base[3:], "c": ember.ones(5, dtype=ember.int64)}, tmp_path / "x.pt")
    monkeypatch.setenv("TORCH_SERIALIZATION_DEBUG", "1")  # torch then checks each offset
    with config.patch({"load.calculate_storage_offsets": True}):
        loaded = torch.load(tmp_path / "x.pt", mmap=True, weights_only=True)
    assert loaded["b"].tolist() == list(range(3, 20)) and loaded["c"].tolist() == [1] * 5


def test_zip64_records_read_back(tmp_path, monkeypatch):
    """Records past 4 GiB take zip64 fields; lower the limit to write them without 4 GiB."""
    monkeypatch.setattr(serialization, "_ZIP64_LIMIT", 100)
    values = {"x": ember.arange(50, dtype=ember.float32), "y": ember.ones(3)}
    save(values, tmp_path / "big.pt")
    with zipfile.ZipFile(tmp_path / "big.pt") as archive:
        assert archive.testzip() is None
    assert all(offset % 64 == 0 for offset in data_offsets(tmp_path / "big.pt").values())
    for key, value in torch.load(tmp_path / "big.pt", weights_only=True).items():
        assert_same(values[key], value)
        assert_same(load(tmp_path / "big.pt")[key], value)


def test_views_share_one_storage_when_saved(tmp_path):
    base = Tensor._wrap(np.arange(24, dtype=np.float32).reshape(4, 6))
    views = {"base": base, "tail": base[1:], "t": base.t(), "column": base[:, 2],
             "strided": base[::2, 1::3], "again": base}
    save(views, tmp_path / "views.pt")
    with zipfile.ZipFile(tmp_path / "views.pt") as archive:
        assert [n for n in archive.namelist() if "/data/" in n] == ["views/data/0"]
    loaded = torch.load(tmp_path / "views.pt", weights_only=True)
    pointer = loaded["base"].untyped_storage().data_ptr()
    for key, view in views.items():
        assert_same(view, loaded[key])
        assert loaded[key].stride() == view.stride()
        assert loaded[key].untyped_storage().data_ptr() == pointer
    assert loaded["tail"].storage_offset() == 6


def test_non_contiguous_and_reinterpreted_arrays_are_copied(tmp_path):
    flipped = Tensor._wrap(np.arange(6.0)[::-1])  # a negative stride: torch has none
    as_ints = Tensor._wrap(np.arange(4, dtype=np.float32).view(np.int32))
    empty = Tensor._wrap(np.arange(6.0)[6:])
    save([flipped, as_ints, empty, Tensor._wrap(np.float64(2.5))], tmp_path / "x.pt")
    loaded = torch.load(tmp_path / "x.pt", weights_only=True)
    for ours, theirs in zip([flipped, as_ints, empty], loaded):
        assert_same(ours, theirs)
    assert loaded[3].shape == () and loaded[3].item() == 2.5


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_both_ways(tmp_path, dtype):
    array = sample(dtype)
    ours = {"matrix": Tensor._wrap(array), "scalar": Tensor._wrap(array[0, 0].copy()),
            "empty": Tensor._wrap(array[:0])}
    save(ours, tmp_path / "ember.pt")
    theirs = torch.load(tmp_path / "ember.pt", weights_only=True)
    assert_same_tree(ours, theirs)
    torch.save(theirs, tmp_path / "torch.pt")
    assert_same_tree(load(tmp_path / "torch.pt"), theirs)


def test_round_trip_keeps_everything(tmp_path):
    weight = ember.nn.Parameter(ember.randn(3, 2))
    frozen = ember.nn.Parameter(ember.ones(2), requires_grad=False)
    obj = collections.OrderedDict(
        weight=weight, frozen=frozen, leaf=ember.ones(2).requires_grad_(),
        config={"name": "net", "sizes": [1, 2, 3], "pair": (0.5, None), "flags": (True, False),
                1: -(2 ** 40), "big": 2 ** 70, "unicode": "λ ✓", "empty": ((), [], {})},
        dtype=ember.float16, size=ember.Size([2, 3]), device=ember.device("cpu"))
    obj._metadata = {"": {"version": 1}}
    save(obj, tmp_path / "all.pt")
    loaded = load(tmp_path / "all.pt")
    assert list(loaded) == list(obj) and loaded._metadata == obj._metadata
    assert type(loaded["weight"]) is ember.nn.Parameter and loaded["weight"].requires_grad
    assert type(loaded["frozen"]) is ember.nn.Parameter and not loaded["frozen"].requires_grad
    assert loaded["leaf"].requires_grad and loaded["leaf"].is_leaf
    np.testing.assert_array_equal(loaded["weight"].numpy(force=True), weight.numpy(force=True))
    assert loaded["config"] == obj["config"]
    assert loaded["dtype"] is ember.float16
    assert type(loaded["size"]) is ember.Size and loaded["size"] == (2, 3)
    assert loaded["device"] == ember.device("cpu")
    in_torch = torch.load(tmp_path / "all.pt", weights_only=True)
    assert type(in_torch["weight"]) is torch.nn.Parameter
    assert in_torch["dtype"] is torch.float16 and in_torch["size"] == torch.Size([2, 3])
    assert in_torch["config"] == obj["config"] and in_torch._metadata == obj._metadata


def test_optimizer_state_dicts_both_ways(tmp_path):
    net = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    net(torch.ones(4, 3)).sum().backward()
    optimizer.step()
    torch.save(optimizer.state_dict(), tmp_path / "torch_adam.pt")
    assert_same_tree(load(tmp_path / "torch_adam.pt"), optimizer.state_dict())

    ours = {"state": {0: {"step": ember.tensor(3.0), "momentum_buffer": ember.randn(2, 3)},
                      1: {"step": ember.tensor(3.0), "momentum_buffer": None}},
            "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False,
                              "foreach": None, "params": [0, 1]}]}
    save(ours, tmp_path / "ember_opt.pt")
    theirs = torch.load(tmp_path / "ember_opt.pt", weights_only=True)
    assert theirs["param_groups"] == ours["param_groups"]
    assert_same(ours["state"][0]["momentum_buffer"], theirs["state"][0]["momentum_buffer"])
    assert theirs["state"][1] == {"step": torch.tensor(3.0), "momentum_buffer": None}


def test_ember_optimizer_state_dict_loads_in_torch(tmp_path):
    optim = pytest.importorskip("ember.optim")
    net = ember.nn.Linear(3, 2)
    optimizer = optim.Adam(net.parameters(), lr=0.01)
    net(ember.ones(4, 3)).sum().backward()
    optimizer.step()
    save(optimizer.state_dict(), tmp_path / "adam.pt")
    theirs = torch.load(tmp_path / "adam.pt", weights_only=True)
    assert list(theirs) == ["state", "param_groups"] and sorted(theirs["state"]) == [0, 1]
    assert theirs["param_groups"][0]["lr"] == 0.01


# ---- torch.save -> ember.load ----------------------------------------------------------------


@pytest.mark.parametrize("weights_only", [True, False])
def test_state_dict_saved_by_torch_loads_in_ember(tmp_path, weights_only):
    """Trusting the file or not, PyTorch's storages become ember tensors."""
    expected = torch_state_dict()
    torch.save(expected, tmp_path / "net.pt")
    loaded = load(tmp_path / "net.pt", weights_only=weights_only)
    assert type(loaded) is collections.OrderedDict and list(loaded) == list(expected)
    assert loaded._metadata == expected._metadata
    for key, value in expected.items():
        assert_same(loaded[key], value)


def test_tutorial_net_state_dict_both_ways(tmp_path):
    nn = pytest.importorskip("ember.nn")

    def tutorial_net(library_nn):
        net = library_nn.Module()
        net.conv1 = library_nn.Conv2d(1, 6, 5)
        net.conv2 = library_nn.Conv2d(6, 16, 5)
        net.fc1 = library_nn.Linear(16 * 4 * 4, 120)
        net.fc2 = library_nn.Linear(120, 84)
        net.fc3 = library_nn.Linear(84, 10)
        return net

    ours, theirs = tutorial_net(nn), tutorial_net(torch.nn)
    save(ours.state_dict(), tmp_path / "ember_net.pt")
    theirs.load_state_dict(torch.load(tmp_path / "ember_net.pt", weights_only=True))
    assert_same_tree(ours.state_dict(), theirs.state_dict())

    theirs = tutorial_net(torch.nn)
    torch.save(theirs.state_dict(), tmp_path / "torch_net.pt")
    ours.load_state_dict(load(tmp_path / "torch_net.pt"))
    assert_same_tree(ours.state_dict(), theirs.state_dict())


def test_views_saved_by_torch_share_memory_in_ember(tmp_path):
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    other = torch.randn(5)
    views = {"base": base, "tail": base[1:], "t": base.t(), "column": base[:, 2],
             "strided": base[::2, 1::3], "expanded": other[:, None].expand(5, 3),
             "other": other, "slice": other[2:4]}
    torch.save(views, tmp_path / "views.pt")
    loaded = load(tmp_path / "views.pt")
    for key, view in views.items():
        assert_same(loaded[key], view)
        assert loaded[key].stride() == view.stride()
    for key in ("tail", "t", "column", "strided"):
        assert np.shares_memory(loaded[key]._data, loaded["base"]._data)
    assert np.shares_memory(loaded["slice"]._data, loaded["expanded"]._data)
    loaded["base"][1, 0] = -1.0  # views see writes to their storage, as in torch
    assert loaded["tail"][0, 0].item() == -1.0 and loaded["t"][0, 1].item() == -1.0


def test_conjugate_and_negative_views_from_torch(tmp_path):
    z = torch.tensor([1 + 2j, 3 - 1j])
    torch.save(z.conj(), tmp_path / "conj.pt")
    assert_same(load(tmp_path / "conj.pt"), z.conj().resolve_conj())
    torch.save(z.conj().imag, tmp_path / "neg.pt")  # the imaginary part of a conjugate
    assert_same(load(tmp_path / "neg.pt"), z.conj().imag.resolve_neg())


def test_untyped_storage_with_a_dtype(tmp_path):
    """torch 2 writes dtypes without a legacy storage class as an UntypedStorage (raw bytes)
    plus the dtype, rebuilt by _rebuild_tensor_v3."""
    storage = StorageRef(torch.UntypedStorage, "0", "cpu", 8)
    obj = Call(torch._utils._rebuild_tensor_v3, storage, 0, (2,), (1,), False,
               collections.OrderedDict(), torch.float32)
    write_checkpoint(tmp_path / "v3.pt", obj, {"data/0": np.float32([1.5, -2]).tobytes()})
    assert_same(load(tmp_path / "v3.pt"), torch.load(tmp_path / "v3.pt", weights_only=True))
    assert load(tmp_path / "v3.pt").tolist() == [1.5, -2.0]


def test_big_endian_checkpoint(tmp_path):
    storage = StorageRef(torch.IntStorage, "0", "cpu", 3)
    write_checkpoint(tmp_path / "big.pt", rebuild(storage, 0, (3,), (1,)),
                     {"data/0": np.array([1, -2, 70000], ">i4").tobytes(), "byteorder": b"big"})
    assert load(tmp_path / "big.pt").tolist() == [1, -2, 70000]


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.uint16])
def test_dtype_ember_lacks_is_named(tmp_path, dtype):
    torch.save(torch.ones(2, dtype=dtype), tmp_path / "x.pt")
    with pytest.raises(pickle.UnpicklingError, match="can't rebuild 'torch.*(bfloat16|BFloat16|"
                                                     "uint16)"):
        load(tmp_path / "x.pt")


# ---- map_location --------------------------------------------------------------------------


@pytest.mark.parametrize("map_location", [None, "cpu", ember.device("cpu"), {"cpu": "cpu"},
                                          lambda storage, location: storage])
def test_map_location_to_cpu(tmp_path, map_location):
    torch.save({"w": torch.ones(2, 2)}, tmp_path / "x.pt")
    loaded = load(tmp_path / "x.pt", map_location=map_location)
    assert loaded["w"].device == ember.device("cpu") and loaded["w"].tolist() == [[1, 1]] * 2


def test_tensors_saved_on_a_gpu_load_where_possible(tmp_path):
    storage = StorageRef(torch.FloatStorage, "0", "cuda:0", 2)
    write_checkpoint(tmp_path / "gpu.pt", rebuild(storage, 0, (2,), (1,)),
                     {"data/0": np.float32([3, 4]).tobytes()})
    expected = "cuda:0" if _backend.cuda_available() else "cpu"
    assert str(load(tmp_path / "gpu.pt").device) == expected
    assert str(load(tmp_path / "gpu.pt", map_location="cpu").device) == "cpu"
    seen = []
    load(tmp_path / "gpu.pt", map_location=lambda storage, location: seen.append(location))
    assert seen == ["cuda:0"]


def test_unknown_device_needs_map_location(tmp_path):
    storage = StorageRef(torch.FloatStorage, "0", "mps", 2)
    write_checkpoint(tmp_path / "mps.pt", rebuild(storage, 0, (2,), (1,)),
                     {"data/0": np.float32([3, 4]).tobytes()})
    with pytest.raises(RuntimeError, match="saved on 'mps'.*map_location='cpu'"):
        load(tmp_path / "mps.pt")
    assert load(tmp_path / "mps.pt", map_location="cpu").tolist() == [3.0, 4.0]
    assert load(tmp_path / "mps.pt", map_location={"mps": "cpu"}).tolist() == [3.0, 4.0]


@pytest.mark.skipif(not _backend.cuda_available(), reason="CUDA not available")
def test_gpu_tensors_save_as_cpu_data(tmp_path):
    weight = ember.arange(6, dtype=ember.float32).reshape(2, 3).cuda()
    save({"w": weight, "t": weight.t()}, tmp_path / "gpu.pt")
    theirs = torch.load(tmp_path / "gpu.pt", map_location="cpu", weights_only=True)
    assert theirs["w"].tolist() == [[0, 1, 2], [3, 4, 5]] and theirs["t"].stride() == (1, 3)
    with zipfile.ZipFile(tmp_path / "gpu.pt") as archive:
        assert "cuda:0" in str(list(pickletools.genops(archive.read("gpu/data.pkl"))))
    ours = load(tmp_path / "gpu.pt")
    assert ours["w"].is_cuda and ours["t"].tolist() == [[0, 3], [1, 4], [2, 5]]
    assert not load(tmp_path / "gpu.pt", map_location="cpu")["w"].is_cuda


# ---- loading never runs code from the file --------------------------------------------------


def malicious_calls(marker: Path) -> dict:
    return {
        "os.system": Call(os.system, f"touch {marker}"),
        "eval": Call(eval, f"open({str(marker)!r}, 'w')"),
        "subprocess": Call(subprocess.call, ["touch", str(marker)]),
    }


@pytest.mark.parametrize("attack", ["os.system", "eval", "subprocess"])
def test_malicious_pickle_is_refused(tmp_path, attack):
    marker = tmp_path / "pwned"
    write_checkpoint(tmp_path / "evil.pt", {"weight": malicious_calls(marker)[attack]})
    with zipfile.ZipFile(tmp_path / "evil.pt") as archive:
        global_name, = globals_in(archive.read("archive/data.pkl"))  # e.g. "posix system"
    name = global_name.replace(" ", ".")
    with pytest.raises(pickle.UnpicklingError, match=f"refuses to unpickle '{name}'"):
        load(tmp_path / "evil.pt")
    assert not marker.exists()


def test_malicious_legacy_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "evil.pt").write_bytes(pickle.dumps(Call(os.system, f"touch {marker}"), 2))
    with pytest.raises(RuntimeError, match="legacy format"):
        load(tmp_path / "evil.pt")
    assert not marker.exists()


def test_weights_only_false_allows_other_globals(tmp_path):
    torch.save({"ratio": fractions.Fraction(1, 3)}, tmp_path / "x.pt")
    with pytest.raises(pickle.UnpicklingError, match="'fractions.Fraction'.*weights_only=False"):
        load(tmp_path / "x.pt")
    assert load(tmp_path / "x.pt", weights_only=False) == {"ratio": fractions.Fraction(1, 3)}


@pytest.mark.parametrize("global_name, state", [
    ("torch._utils\n_rebuild_tensor_v2", (None, {"__defaults__": ({"neg": True},)})),
    ("torch\nFloatStorage", (None, {"dtype": "int8"})),
    ("torch\nSize", (None, {"numel": None})),
])
def test_file_cannot_change_the_globals_it_names(tmp_path, global_name, state):
    """A BUILD opcode straight after a GLOBAL would set attributes on ember's shared objects,
    changing what every later load returns."""
    state_opcodes = pickle.dumps(state, protocol=2)[2:-1]  # without PROTO and STOP
    data_pkl = b"\x80\x02c" + global_name.encode() + b"\n" + state_opcodes + b"b."
    with zipfile.ZipFile(tmp_path / "x.pt", "w") as archive:
        archive.writestr("archive/data.pkl", data_pkl)
    with pytest.raises(pickle.UnpicklingError, match="tries to change"):
        load(tmp_path / "x.pt")
    assert serialization._rebuild_tensor_v2.__defaults__ == (None,)
    torch.save(torch.ones(2), tmp_path / "ones.pt")
    assert load(tmp_path / "ones.pt").tolist() == [1.0, 1.0]


def test_file_cannot_change_a_dtype(tmp_path):
    state_opcodes = pickle.dumps((None, {"name": "float32"}), protocol=2)[2:-1]  # no change
    with zipfile.ZipFile(tmp_path / "x.pt", "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02ctorch\nfloat32\n" + state_opcodes + b"b.")
    with pytest.raises(pickle.UnpicklingError):
        load(tmp_path / "x.pt")


def test_view_outside_its_storage_is_refused(tmp_path):
    storage = StorageRef(torch.FloatStorage, "0", "cpu", 4)
    write_checkpoint(tmp_path / "x.pt", rebuild(storage, 2, (3,), (1,)),
                     {"data/0": np.zeros(4, np.float32).tobytes()})
    with pytest.raises(RuntimeError, match="reaches element 4 of a storage of 4"):
        load(tmp_path / "x.pt")


@pytest.mark.parametrize("pid", [("storage", "FloatStorage", "0", "cpu", 4), ("module", "os"),
                                 "0"])
def test_unknown_persistent_id_is_refused(tmp_path, pid):
    storage = StorageRef(None, "0", "cpu", 4)
    storage.id = pid
    write_checkpoint(tmp_path / "x.pt", rebuild(storage, 0, (4,), (1,)),
                     {"data/0": np.zeros(4, np.float32).tobytes()})
    with pytest.raises(pickle.UnpicklingError, match="unknown persistent id"):
        load(tmp_path / "x.pt")


# ---- damaged files ---------------------------------------------------------------------------


def saved_bytes(tmp_path) -> bytes:
    save({"w": ember.arange(100, dtype=ember.float32)}, tmp_path / "good.pt")
    return (tmp_path / "good.pt").read_bytes()


@pytest.mark.parametrize("damage, message", [
    (lambda data: b"", "is empty"),
    (lambda data: np.random.default_rng(0).bytes(1000), "is not a checkpoint"),
    (lambda data: data[:len(data) // 2], "is not a checkpoint.*truncated"),
    (lambda data: data[:-10], "is not a checkpoint"),
    (lambda data: data.replace(np.float32(50).tobytes(), np.float32(-50).tobytes()),
     "is corrupt: can't read record 'good/data/0': Bad CRC-32"),
])
def test_damaged_file_raises_naming_it(tmp_path, damage, message):
    (tmp_path / "bad.pt").write_bytes(damage(saved_bytes(tmp_path)))
    with pytest.raises(RuntimeError, match=message) as error:
        load(tmp_path / "bad.pt")
    assert str(tmp_path / "bad.pt") in str(error.value)


def test_zip_without_data_pkl(tmp_path):
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as archive:
        archive.writestr("archive/notes.txt", "hello")
    with pytest.raises(RuntimeError, match="x.zip is not a checkpoint.*no <folder>/data.pkl"):
        load(tmp_path / "x.zip")


def test_records_that_do_not_match_data_pkl(tmp_path):
    storage = StorageRef(torch.FloatStorage, "0", "cpu", 4)
    write_checkpoint(tmp_path / "missing.pt", rebuild(storage, 0, (4,), (1,)))
    with pytest.raises(RuntimeError, match="lacks"):
        load(tmp_path / "missing.pt")
    write_checkpoint(tmp_path / "short.pt", rebuild(storage, 0, (4,), (1,)),
                     {"data/0": b"\0" * 12})
    with pytest.raises(RuntimeError, match="holds 12 bytes, but data.pkl expects 4 elements"):
        load(tmp_path / "short.pt")


def test_garbage_data_pkl(tmp_path):
    with zipfile.ZipFile(tmp_path / "x.pt", "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00(X\x01")
    with pytest.raises(pickle.UnpicklingError, match="x.pt is corrupt: data.pkl can't be unpick"):
        load(tmp_path / "x.pt")


# ---- saving ------------------------------------------------------------------------------------


def test_file_objects(tmp_path):
    buffer = io.BytesIO()
    save({"w": ember.ones(3)}, buffer)
    buffer.seek(0)
    assert torch.load(buffer, weights_only=True)["w"].tolist() == [1.0] * 3
    buffer.seek(0)
    assert load(buffer)["w"].tolist() == [1.0] * 3
    assert zipfile.ZipFile(buffer).namelist()[0] == "archive/data.pkl"

    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, buffer)
    buffer.seek(0)
    assert load(buffer)["w"].tolist() == [0.0, 0.0]

    class WriteOnly:  # a pipe or socket: no seek, no tell
        def __init__(self):
            self.chunks = []

        def write(self, data):
            self.chunks.append(bytes(data))

    stream = WriteOnly()
    save({"w": ember.ones(3)}, stream)
    assert load(io.BytesIO(b"".join(stream.chunks)))["w"].tolist() == [1.0] * 3
    with open(tmp_path / "x.pt", "wb") as file:
        save([ember.ones(1)], file)
    with open(tmp_path / "x.pt", "rb") as file:
        assert load(file)[0].tolist() == [1.0]


class Point:
    """A plain Python class, pickled by reference to this module."""

    def __init__(self, x, y) -> None:
        self.x, self.y = x, y

    def __eq__(self, other) -> bool:
        return type(other) is Point and (self.x, self.y) == (other.x, other.y)


def any_objects() -> dict:
    loop = [1]
    loop.append(loop)
    return {"array": np.arange(6, dtype=np.int16).reshape(2, 3), "ratio": fractions.Fraction(1, 3),
            "point": Point(1, [2.5]), "scalar": np.float32(0.5), "loop": loop}


def assert_same_objects(loaded: dict, saved: dict) -> None:
    np.testing.assert_array_equal(loaded["array"], saved["array"])
    assert loaded["array"].dtype == saved["array"].dtype
    assert loaded["ratio"] == saved["ratio"] and loaded["point"] == saved["point"]
    assert type(loaded["scalar"]) is np.float32 and loaded["scalar"] == 0.5
    assert loaded["loop"][0] == 1 and loaded["loop"][1] is loaded["loop"]


@pytest.mark.parametrize("writer", ["ember", "torch"])
def test_any_picklable_object_both_ways(tmp_path, writer):
    """What pickle can save, both save; both loaders read either file with weights_only=False,
    and with weights_only=True both refuse the first global outside their allow-list."""
    path = tmp_path / "objects.pt"
    (save if writer == "ember" else torch.save)(any_objects(), path)
    assert_same_objects(load(path, weights_only=False), any_objects())
    assert_same_objects(torch.load(path, weights_only=False), any_objects())
    with pytest.raises(pickle.UnpicklingError) as ours:
        load(path)
    with pytest.raises(pickle.UnpicklingError) as theirs:
        torch.load(path)
    refused = re.search(r"GLOBAL (\S+) was not an allowed global", str(theirs.value)).group(1)
    assert f"'{refused}'" in str(ours.value)
    for advice in (f"add_safe_globals([{refused}])", f"safe_globals([{refused}])"):
        assert advice in str(ours.value) and advice in str(theirs.value)
    assert "weights_only=False" in str(ours.value)
    assert "`weights_only` set to `False`" in str(theirs.value)


def test_numpy_array_alone_saves_and_loads(tmp_path):
    array = np.linspace(0, 1, 5)
    save(array, tmp_path / "a.pt")
    np.testing.assert_array_equal(torch.load(tmp_path / "a.pt", weights_only=False), array)
    np.testing.assert_array_equal(load(tmp_path / "a.pt", weights_only=False), array)
    torch.save(array, tmp_path / "b.pt")
    np.testing.assert_array_equal(load(tmp_path / "b.pt", weights_only=False), array)


def test_a_whole_module_loads_back_whole(tmp_path):
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4), ember.nn.ReLU())
    model(ember.randn(5, 3))  # running statistics change
    save(model, tmp_path / "model.pt")
    loaded = load(tmp_path / "model.pt", weights_only=False)
    assert type(loaded) is ember.nn.Sequential and repr(loaded) == repr(model)
    for (name, ours), (_, theirs) in zip(loaded.state_dict().items(), model.state_dict().items()):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=name)
    assert type(loaded[0].weight) is ember.nn.Parameter and loaded[0].weight.requires_grad
    x = ember.randn(2, 3)
    model.eval()
    loaded.eval()
    np.testing.assert_array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())
    with pytest.raises(pickle.UnpicklingError,
                       match="'ember.nn.modules.container.Sequential'.*weights_only=False"):
        load(tmp_path / "model.pt")


def test_a_whole_optimizer_and_shared_objects(tmp_path):
    """Pickle's memo keeps identity: a parameter in both the model and the optimizer loads as
    one object, as in PyTorch."""
    layer = ember.nn.Linear(2, 2)
    optimizer = ember.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
    layer(ember.ones(1, 2)).sum().backward()
    optimizer.step()
    save({"layer": layer, "optimizer": optimizer}, tmp_path / "both.pt")
    loaded = load(tmp_path / "both.pt", weights_only=False)
    assert loaded["optimizer"].param_groups[0]["params"][0] is loaded["layer"].weight
    assert loaded["optimizer"].state_dict()["state"][0]["momentum_buffer"].tolist() == (
        optimizer.state_dict()["state"][0]["momentum_buffer"].tolist())
    weight = ember.ones(2)
    save([weight, weight], tmp_path / "twice.pt")
    first, second = load(tmp_path / "twice.pt")
    theirs = torch.load(tmp_path / "twice.pt")
    assert first is second and theirs[0] is theirs[1]


def test_a_torch_module_saved_whole_is_named(tmp_path):
    torch.save(torch.nn.Linear(2, 3), tmp_path / "linear.pt")
    with pytest.raises(pickle.UnpicklingError,
                       match="can't rebuild 'torch.nn.modules.linear.Linear'"):
        load(tmp_path / "linear.pt", weights_only=False)


def test_unpicklable_objects_fail_before_writing(tmp_path):
    bad = {"w": ember.ones(2), "f": lambda x: x}
    with pytest.raises(AttributeError, match="Can't pickle local object"):
        torch.save(bad, io.BytesIO())  # the C pickler's error; Python's, ember's, differs
    with pytest.raises(pickle.PicklingError, match="Can't pickle <function .*<lambda>"):
        save(bad, tmp_path / "x.pt")
    buffer = io.BytesIO()
    with pytest.raises(pickle.PicklingError, match="Can't pickle <function .*<lambda>"):
        save(bad, buffer)
    assert list(tmp_path.iterdir()) == [] and buffer.getvalue() == b""


def test_safe_globals_as_torch(tmp_path):
    save({"ratio": fractions.Fraction(1, 3), "point": Point(1, 2)}, tmp_path / "x.pt")
    allowed = [fractions.Fraction, Point]
    try:
        serialization.add_safe_globals(allowed)
        torch.serialization.add_safe_globals(allowed)
        assert serialization.get_safe_globals() == allowed
        assert all(entry in torch.serialization.get_safe_globals() for entry in allowed)
        assert load(tmp_path / "x.pt") == torch.load(tmp_path / "x.pt")
        serialization.clear_safe_globals()
        assert serialization.get_safe_globals() == []
        with pytest.raises(pickle.UnpicklingError, match="fractions.Fraction"):
            load(tmp_path / "x.pt")
        with serialization.safe_globals(allowed):
            assert serialization.get_safe_globals() == allowed
            assert load(tmp_path / "x.pt")["point"] == Point(1, 2)
        assert serialization.get_safe_globals() == []
        # A global named otherwise than its own module and name, as a pair.
        with serialization.safe_globals([(fractions.Fraction, "fractions.Fraction"),
                                         (Point, f"{__name__}.Point")]):
            assert load(tmp_path / "x.pt")["ratio"] == fractions.Fraction(1, 3)
        with pytest.raises(TypeError, match="add_safe_globals takes"):
            serialization.add_safe_globals([3])
        assert serialization.get_safe_globals() == []
    finally:
        serialization.clear_safe_globals()
        torch.serialization.clear_safe_globals()


def test_load_arguments_as_torch(tmp_path):
    save({"ratio": fractions.Fraction(1, 3)}, tmp_path / "x.pt")
    for loader in (load, torch.load):
        # An explicit pickle_module makes weights_only default to False ...
        loaded = loader(tmp_path / "x.pt", pickle_module=pickle)
        assert loaded == {"ratio": fractions.Fraction(1, 3)}
        # ... and can't be combined with weights_only=True.
        with pytest.raises(RuntimeError, match="explicit pickle_module"):
            loader(tmp_path / "x.pt", pickle_module=pickle, weights_only=True)
        with pytest.raises(ValueError, match="must be a file path .* mmap"):
            loader(io.BytesIO((tmp_path / "x.pt").read_bytes()), mmap=True)
        # weights_only=True ignores pickle's arguments, and says so.
        with pytest.warns(UserWarning, match="pickle_load_args only works"), \
                contextlib.suppress(pickle.UnpicklingError):
            loader(tmp_path / "x.pt", weights_only=True, encoding="latin1")
        assert loader(tmp_path / "x.pt", weights_only=False, encoding="latin1")["ratio"] == (
            fractions.Fraction(1, 3))


def test_mmap_maps_the_file(tmp_path):
    weights = {"w": ember.arange(100, dtype=ember.float32), "b": ember.ones(3, dtype=ember.int64)}
    save(weights, tmp_path / "w.pt")
    before = (tmp_path / "w.pt").read_bytes()
    loaded = load(tmp_path / "w.pt", mmap=True)
    theirs = torch.load(tmp_path / "w.pt", mmap=True)
    for key in weights:
        assert loaded[key].tolist() == weights[key].tolist() == theirs[key].tolist()
        assert loaded[key].numpy().base is not None  # a view of the mapping, not a copy
    loaded["w"].add_(1)  # copy-on-write: the file keeps its bytes
    assert (tmp_path / "w.pt").read_bytes() == before and load(tmp_path / "w.pt")["w"][0] == 0


def test_save_arguments_as_torch(tmp_path):
    weights = {"w": ember.ones(2)}
    save(weights, tmp_path / "p4.pt", pickle_protocol=4)
    # PyTorch's weights_only unpickler knows protocol 2's opcodes only, also for its own files.
    assert torch.load(tmp_path / "p4.pt", weights_only=False)["w"].tolist() == [1.0, 1.0]
    assert load(tmp_path / "p4.pt")["w"].tolist() == [1.0, 1.0]
    save(weights, tmp_path / "nb.pt", _disable_byteorder_record=True)
    torch.save({"w": torch.ones(2)}, tmp_path / "torch_nb.pt", _disable_byteorder_record=True)
    names = [name.split("/", 1)[1] for name in zipfile.ZipFile(tmp_path / "nb.pt").namelist()]
    assert names == [name.split("/", 1)[1]
                     for name in zipfile.ZipFile(tmp_path / "torch_nb.pt").namelist()]
    assert load(tmp_path / "nb.pt")["w"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="must extend pickle._Pickler"):
        c_pickle = types.SimpleNamespace(Pickler=pickle.Pickler)
        save(weights, tmp_path / "c.pt", pickle_module=c_pickle)
    with pytest.raises(NotImplementedError, match="zip format"):
        save(weights, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    save({"epoch": 1, "w": ember.ones(2)}, path)

    def disk_full(self):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(serialization._ZipWriter, "finish", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save({"epoch": 2, "w": ember.zeros(1000)}, path)
    assert load(path)["epoch"] == 1 and load(path)["w"].tolist() == [1.0, 1.0]
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # no temporary file left


def kill_a_save_midway(path, elements: int) -> int:
    """Start a process that saves a tensor of ``elements`` float32 numbers to ``path``, kill
    it (SIGKILL) once the tensor's record is written but the archive is not finished, and
    return its pid."""
    child_code = textwrap.dedent(f"""
        import sys, time
        import numpy as np
        from ember import serialization
        from ember._tensor import Tensor

        write_record = serialization._ZipWriter.write_record

        def write_then_stall(self, name, data):
            write_record(self, name, data)
            if name == "data/0":
                print("midway", flush=True)
                time.sleep(60)

        serialization._ZipWriter.write_record = write_then_stall
        weight = Tensor._wrap(np.ones({elements}, np.float32))
        serialization.save({{"epoch": 2, "w": weight}}, sys.argv[1])
    """)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    child = subprocess.Popen([sys.executable, "-c", child_code, str(path)], cwd=REPO, env=env,
                             stdout=subprocess.PIPE)
    try:
        assert child.stdout.readline() == b"midway\n"
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    return child.pid


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and file modes are POSIX")
def test_killed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    save({"epoch": 1}, path)
    kill_a_save_midway(path, elements=1 << 21)  # 8 MB are on disk when it is killed
    assert load(path) == {"epoch": 1}
    temporary, = [p for p in tmp_path.iterdir() if p.name != "ckpt.pt"]
    assert temporary.name.startswith(".ckpt.pt.") and temporary.stat().st_size > 8_000_000


@pytest.mark.skipif(os.name != "posix", reason="symlinks and file modes are POSIX")
def test_save_through_symlink_keeps_link_and_mode(tmp_path):
    target = tmp_path / "real.pt"
    save({"v": 1}, target)
    target.chmod(0o640)
    link = tmp_path / "latest.pt"
    link.symlink_to(target)
    save({"v": 2}, link)
    assert link.is_symlink() and load(target) == {"v": 2}
    assert target.stat().st_mode & 0o777 == 0o640
    fresh = tmp_path / "fresh.pt"
    save({}, fresh)
    umask = os.umask(0o022)
    os.umask(umask)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask
