"""ember.load on damaged, hostile and ambiguous files; saves that fail or are killed.

A damaged file loads (when the damage missed what matters) or is refused with RuntimeError or
pickle.UnpicklingError naming the file. A hostile one is refused before it costs much: its sizes
ask for terabytes, or its work for hours, so a load that trusted it would die of MemoryError or
hang; these tests need no timing thresholds.
"""

import collections
import io
import os
import pickle
import struct
import threading
import zipfile

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from test_serialization import HandPickler, StorageRef, kill_a_save_midway, rebuild

import ember
from ember import serialization
from ember.serialization import load, save

NAME = "damaged.pt"


class NamedBytes(io.BytesIO):
    """An in-memory file with a name, which load's errors must mention."""

    name = NAME


def load_bytes(data: bytes, **kwargs):
    return load(NamedBytes(data), **kwargs)


def assert_refused(data: bytes, error_type=(RuntimeError, pickle.UnpicklingError), match=None):
    """load raises one of the documented errors, naming the file, with ``match`` in it."""
    with pytest.raises(error_type, match=match) as error:
        load_bytes(data)
    assert NAME in str(error.value)


def assert_loads_or_refused(data: bytes) -> None:
    """What a damaged file may do: load (the damage missed what matters), or be refused."""
    try:
        load_bytes(data)
    except (RuntimeError, pickle.UnpicklingError) as error:
        assert NAME in str(error), str(error)


def checkpoint() -> bytes:
    """A small real checkpoint, as torch.save writes one: a state_dict and optimizer state."""
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(torch.ones(4, 3)).sum().backward()
    optimizer.step()
    buffer = io.BytesIO()
    torch.save({"model": net.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3,
                "name": "λ", "bytes": b"\x00\xff"}, buffer)
    return buffer.getvalue()


CHECKPOINT = checkpoint()


def pickled(obj) -> bytes:
    """``obj`` pickled with protocol 2, its StorageRefs written as persistent ids."""
    data_pkl = io.BytesIO()
    HandPickler(data_pkl, protocol=2).dump(obj)
    return data_pkl.getvalue()


def archive_with(data_pkl: bytes, records=(), folder="archive") -> bytes:
    """A zip laid out as torch.save lays it out, around a data.pkl written by hand."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{folder}/data.pkl", data_pkl)
        for name, data in dict(records).items():
            archive.writestr(f"{folder}/{name}", data)
    return buffer.getvalue()


def reduce_ops(function: str, args_opcodes: bytes) -> bytes:
    """The opcodes of the call ``function(*args)``: GLOBAL (``"_codecs.encode"``), the args
    tuple's opcodes, REDUCE."""
    module, name = function.rsplit(".", 1)
    return f"c{module}\n{name}\n".encode() + args_opcodes + b"R"


def body(obj) -> bytes:
    """``obj`` pickled (protocol 2) without the PROTO and STOP opcodes around it."""
    return pickle.dumps(obj, protocol=2)[2:-1]


# ---- damaged files: only the documented errors -----------------------------------------------


def test_the_real_checkpoint_loads():
    loaded = load_bytes(CHECKPOINT)
    assert loaded["epoch"] == 3 and loaded["bytes"] == b"\x00\xff"
    assert sorted(loaded["model"]) == sorted(["0.weight", "0.bias", "1.weight", "1.bias",
                                              "1.running_mean", "1.running_var",
                                              "1.num_batches_tracked"])


def test_truncated_at_every_offset():
    for end in range(len(CHECKPOINT)):
        assert_refused(CHECKPOINT[:end])


def test_bytes_changed_at_every_position():
    for position in range(len(CHECKPOINT)):
        original = CHECKPOINT[position]
        value = [0x00, 0xFF, original ^ 0x01, original ^ 0x80][position % 4]
        assert_loads_or_refused(CHECKPOINT[:position] + bytes([value]) + CHECKPOINT[position + 1:])


edits = st.lists(st.tuples(st.sampled_from(["set", "insert", "delete"]),
                           st.integers(0, len(CHECKPOINT) - 1), st.binary(min_size=1, max_size=8)),
                 min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(edits)
def test_random_edits(edits):
    data = bytearray(CHECKPOINT)
    for kind, position, chunk in edits:
        position = min(position, len(data))
        if kind == "set":
            data[position:position + len(chunk)] = chunk
        elif kind == "insert":
            data[position:position] = chunk
        else:
            del data[position:position + len(chunk)]
    assert_loads_or_refused(bytes(data))


@pytest.mark.parametrize("field, value", [
    (48, 2 ** 64 - 1),  # the directory's offset: zipfile seeks before the file's start ...
    (48, 2 ** 62),  # ... or far past its end
    (40, 2 ** 62),  # the directory's size
])
def test_end_of_directory_fields(field, value):
    """Damage in the zip64 end-of-directory record, which zipfile reads first."""
    end = CHECKPOINT.rindex(b"PK\x06\x06")
    damaged = bytearray(CHECKPOINT)
    struct.pack_into("<Q", damaged, end + field, value)
    assert_refused(bytes(damaged))


def test_undecodable_record_name():
    """A name flagged as UTF-8 that isn't: zipfile raised UnicodeDecodeError."""
    name = b"archive/data.pkl"
    start = CHECKPOINT.index(name, CHECKPOINT.index(b"PK\x01\x02"))  # in the central directory
    damaged = CHECKPOINT[:start] + b"\xff" + CHECKPOINT[start + 1:]
    assert_refused(damaged, match="not a checkpoint")


@pytest.mark.parametrize("size, stride, offset", [
    ((1,), (2 ** 63,), 0),  # NumPy's as_strided raised OverflowError
    ((1, 2), (2 ** 62, 1), 0),  # a stride in int64, but not in bytes
    ((0, 2 ** 62, 2 ** 62), (1, 1, 1), 0),  # empty, but NumPy can't hold its shape
    ((0,), (1,), 2 ** 64),
])
def test_tensor_layouts_too_large_to_exist(size, stride, offset):
    storage = StorageRef(torch.FloatStorage, "0", "cpu", 4)
    data = archive_with(pickled(rebuild(storage, offset, size, stride)),
                        {"data/0": np.zeros(4, np.float32).tobytes()})
    assert_refused(data, RuntimeError, match="too large to exist")


# ---- denial of service: refused before the work or the allocation -----------------------------


def test_codecs_other_than_latin1_are_refused():
    """Some codecs take time quadratic in their input (the 47-second 30 KB file)."""
    data_pkl = b"\x80\x02" + reduce_ops("_codecs.encode", body(("x" * 100, "punycode"))) + b"."
    assert_refused(archive_with(data_pkl), pickle.UnpicklingError, match="latin1")


def test_bytes_as_protocol_2_writes_them_still_load():
    data_pkl = pickle.dumps({"b": b"\x00\x80\xff", "a": bytearray(b"xy"), "e": bytearray()},
                            protocol=2)
    assert load_bytes(archive_with(data_pkl)) == {"b": b"\x00\x80\xff", "a": bytearray(b"xy"),
                                                  "e": bytearray()}


def test_bytearray_of_a_size_is_refused():
    """bytearray(n) would let 40 bytes of data.pkl allocate a petabyte."""
    data_pkl = b"\x80\x02" + reduce_ops("__builtin__.bytearray", body((2 ** 50,))) + b"."
    assert_refused(archive_with(data_pkl), pickle.UnpicklingError, match="bytearray")


def test_compressed_records_are_refused():
    """A deflated record could inflate a megabyte into gigabytes; torch.save never deflates."""
    source = zipfile.ZipFile(io.BytesIO(CHECKPOINT))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info.filename, source.read(info))
    assert_refused(buffer.getvalue(), RuntimeError, match="compressed")


def test_record_sizes_past_the_file_are_refused(monkeypatch):
    """A record that says it holds 2**45 bytes, and data.pkl a storage to match: trusting them
    would allocate 32 TiB for a file of a few hundred bytes."""
    numel = 2 ** 43
    storage = StorageRef(torch.FloatStorage, "0", "cpu", numel)
    data_pkl = pickled(rebuild(storage, 0, (numel,), (1,)))
    monkeypatch.setattr(serialization, "_ZIP64_LIMIT", 0)  # every record gets zip64 sizes
    buffer = io.BytesIO()
    serialization._write_checkpoint(buffer, "archive", data_pkl, [np.zeros(4, np.float32)],
                                     True)
    data = bytearray(buffer.getvalue())
    name = b"archive/data/0"
    extra = data.index(name, data.index(b"PK\x01\x02")) + len(name)  # its central zip64 field
    assert data[extra:extra + 2] == b"\x01\x00"
    struct.pack_into("<QQ", data, extra + 4, 4 * numel, 4 * numel)
    assert_refused(bytes(data), RuntimeError, match="past the end of the file")


def test_storage_element_count_must_match_its_record():
    storage = StorageRef(torch.FloatStorage, "0", "cpu", 2 ** 50)
    data = archive_with(pickled(rebuild(storage, 0, (1,), (1,))),
                        {"data/0": np.zeros(4, np.float32).tobytes()})
    assert_refused(data, RuntimeError, match="expects 1125899906842624 elements")


def test_huge_memo_index_allocates_nothing():
    """LONG_BINPUT 0xFFFFFFFF: the C unpickler makes its memo that long (32 GiB of pointers).
    Python's unpickler keeps the memo in a dict, so the file loads."""
    data_pkl = b"\x80\x02Nr\xff\xff\xff\xff."
    assert load_bytes(archive_with(data_pkl)) is None


def colliding_ints(count: int) -> list:
    """Distinct ints with one hash: Python hashes an int modulo 2**61 - 1."""
    return [k * (2 ** 61 - 1) for k in range(1, count + 1)]


@pytest.mark.parametrize("make", [
    lambda: {key: None for key in colliding_ints(200)},
    lambda: {(key, 0): None for key in range(200)},  # a tuple's hash can be chosen as well
])
def test_dict_keys_with_chosen_hashes_are_refused(make):
    """n keys with one hash take n * n steps to insert: a megabyte would take hours."""
    assert_refused(archive_with(pickle.dumps(make(), protocol=2)), pickle.UnpicklingError,
                   match="dict key or set item")


def test_set_items_with_chosen_hashes_are_refused():
    assert_refused(archive_with(pickle.dumps(set(colliding_ints(200)), protocol=2)),
                   pickle.UnpicklingError, match="dict key or set item")


def test_plain_keys_still_load():
    obj = {"a": 1, 2: "b", -(2 ** 63): None, 2.5: (), None: [], True: b"v", b"k": {1, "x"}}
    assert load_bytes(archive_with(pickle.dumps(obj, protocol=2))) == obj


@pytest.mark.parametrize("function, args", [
    ("__builtin__.set", (list(range(1000)),)),
    ("_codecs.encode", ("x" * 1000, "latin1")),
    ("torch.Size", (tuple(range(1000)),)),
])
def test_one_memoized_argument_passed_again_and_again_is_refused(function, args):
    """One argument, pickled once and memoized, then passed to 10,000 calls: a few kilobytes
    asking for millions of steps (or, for encode, gigabytes of copies)."""
    first = reduce_ops(function, body(args) + b"q\x00")  # BINPUT 0: memoize the arguments
    again = reduce_ops(function, b"h\x00")  # BINGET 0
    data_pkl = b"\x80\x02](" + first + again * 10_000 + b"e."
    assert_refused(archive_with(data_pkl), pickle.UnpicklingError, match="more work")


def test_one_memoized_state_built_into_many_dicts_is_refused():
    """BUILD sets each key of its state on the object: one memoized state of 1,000 keys set
    on 10,000 OrderedDicts would be ten million entries."""
    state = body({f"k{i}": None for i in range(1000)})
    make = reduce_ops("collections.OrderedDict", b")")
    data_pkl = (b"\x80\x02](" + make + state + b"q\x00b" + (make + b"h\x00b") * 10_000
                + b"e.")
    assert_refused(archive_with(data_pkl), pickle.UnpicklingError, match="more work")


def test_conjugate_views_share_one_computed_storage():
    """A file with many conjugate views of one storage costs one copy, not one per view."""
    z = torch.tensor([1 + 2j, 3 - 1j])
    buffer = io.BytesIO()
    torch.save([z.conj(), z.conj()[1:], z.conj()], buffer)
    first, second, third = load_bytes(buffer.getvalue())
    assert np.shares_memory(first.numpy(), second.numpy())
    assert np.shares_memory(first.numpy(), third.numpy())
    assert first.tolist() == z.conj().resolve_conj().tolist()


# ---- ambiguous archives ------------------------------------------------------------------------


def with_extra_records(data: bytes, records: dict) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            archive.writestr(info.filename, source.read(info))
        for name, record in records.items():
            archive.writestr(name, record)
    return buffer.getvalue()


def plain_checkpoint() -> bytes:
    buffer = io.BytesIO()
    torch.save(torch.arange(4.0), buffer)
    return buffer.getvalue()


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize("name", ["archive/data/0", "archive/data.pkl"])
def test_a_record_twice_is_refused(name):
    """PyTorch reads the first data/0 but the last data.pkl; ember read the last of each."""
    data = with_extra_records(plain_checkpoint(), {name: np.ones(4, np.float32).tobytes()})
    assert_refused(data, RuntimeError, match=f"two records named '{name}'")


@pytest.mark.parametrize("name", ["other/data.pkl", "other/data/0", "loose"])
def test_records_outside_the_folder_are_refused_as_torch_does(name):
    data = with_extra_records(plain_checkpoint(), {name: pickle.dumps(5, protocol=2)})
    with pytest.raises(RuntimeError, match="not in a subdirectory archive/") as theirs:
        torch.load(io.BytesIO(data), weights_only=True)
    assert name in str(theirs.value)
    assert_refused(data, RuntimeError, match=f"not in a subdirectory archive/: {name}")


# ---- temporary files of killed saves -----------------------------------------------------------


def temporaries(directory) -> list:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and process ids are POSIX")
def test_next_save_removes_a_killed_saves_temporary_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    save({"epoch": 1}, path)
    pid = kill_a_save_midway(path, elements=1 << 18)
    leftover, = temporaries(tmp_path)  # named after the process that wrote it
    assert leftover.startswith(".ckpt.pt.") and f".{pid}." in leftover
    assert load(path) == {"epoch": 1}

    save({"epoch": 3}, path)
    assert temporaries(tmp_path) == [] and load(path) == {"epoch": 3}


@pytest.mark.skipif(os.name != "posix", reason="process ids are POSIX")
def test_a_live_writers_temporary_file_is_kept(tmp_path):
    """Another process saving to the same path keeps its file; so do other files."""
    live = tmp_path / (serialization._temporary_prefix("ckpt.pt") + "abc123.tmp")
    others = [".ckpt.pt.abc.tmp", ".other.pt.1.abc.tmp", "ckpt.pt.tmp"]
    for name in [live.name, *others]:
        (tmp_path / name).write_bytes(b"partial")
    save({"epoch": 1}, tmp_path / "ckpt.pt")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, *others, "ckpt.pt"])


@pytest.mark.parametrize("bad", [threading.Lock(),
                                 {"deep": [ember.ones(3), {"x": threading.Lock()}]}])
def test_save_that_fails_while_pickling_changes_nothing(tmp_path, bad):
    """Pickling fails midway, after tensors were collected: the old file is intact, no
    temporary file is left, and a file object has nothing written to it."""
    path = tmp_path / "ckpt.pt"
    save({"epoch": 1, "w": ember.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="cannot pickle '_thread.lock'"):
        save({"epoch": 2, "w": ember.zeros(1000), "bad": bad}, path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [
        "ckpt.pt"]
    buffer = io.BytesIO()
    with pytest.raises(TypeError, match="cannot pickle '_thread.lock'"):
        save({"w": ember.zeros(1000), "bad": bad}, buffer)
    assert buffer.getvalue() == b""


# ---- checkpoints of every kind still load, both ways ----------------------------------------


def test_torch_checkpoints_of_every_kind_load_in_ember():
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    net(torch.randn(5, 3)).sum().backward()
    optimizer.step()
    base = torch.arange(12, dtype=torch.float64).reshape(3, 4)
    obj = {
        "model": net.state_dict(), "optimizer": optimizer.state_dict(),
        "nested": {"list": [torch.tensor([1, 2], dtype=torch.int64), [torch.tensor([True])]],
                   "tuple": (torch.tensor(2.5), torch.empty(0, 3), torch.zeros(2, 0))},
        "views": [base, base[1:], base.t(), base[:, 1]],
        "parameter": torch.nn.Parameter(torch.ones(2)),
        "int32": torch.tensor([-3, 7], dtype=torch.int32),
        "other": [b"raw", bytearray(b"ba"), {1, 2}, 1 + 2j, torch.Size([2, 3]),
                  torch.device("cpu"), torch.float16, 2 ** 70, -1.5, None, "λ"],
    }
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    loaded = load_bytes(buffer.getvalue())

    def same(ours, theirs):
        if isinstance(theirs, torch.Tensor):
            assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
            assert tuple(ours.shape) == tuple(theirs.shape)
            np.testing.assert_array_equal(ours.numpy(force=True), theirs.detach().numpy())
        elif isinstance(theirs, dict):
            assert list(ours) == list(theirs)
            for key in theirs:
                same(ours[key], theirs[key])
        elif isinstance(theirs, (list, tuple)):
            assert len(ours) == len(theirs)
            for a, b in zip(ours, theirs):
                same(a, b)
        elif isinstance(theirs, (torch.dtype, torch.device)):
            assert str(ours).removeprefix("ember.") == str(theirs).removeprefix("torch.")
        else:
            assert ours == theirs

    same(loaded, obj)
    views = [view.numpy() for view in loaded["views"]]
    assert all(np.shares_memory(views[0], view) for view in views[1:])
    assert type(loaded["parameter"]) is ember.nn.Parameter


def test_ember_checkpoints_of_every_kind_load_in_torch(tmp_path):
    base = ember.arange(12, dtype=ember.float64).reshape(3, 4)
    obj = collections.OrderedDict(
        weight=ember.nn.Parameter(ember.randn(2, 3)),
        nested={"ints": [ember.tensor([1, 2]), [ember.tensor([True, False])]],
                "scalars": (ember.tensor(2.5), ember.zeros(0, 3)), 0: {"step": 3}},
        views=[base, base[1:], base.t(), base[:, 1]])
    save(obj, tmp_path / "all.pt")
    theirs = torch.load(tmp_path / "all.pt", weights_only=True)
    assert type(theirs["weight"]) is torch.nn.Parameter
    assert theirs["nested"]["ints"][0].dtype == torch.int64
    assert theirs["nested"]["ints"][1][0].tolist() == [True, False]
    assert theirs["nested"]["scalars"][0].shape == () and theirs["nested"]["scalars"][1].shape == (
        0, 3)
    assert theirs["nested"][0] == {"step": 3}
    for ours, view in zip(obj["views"], theirs["views"]):
        assert view.tolist() == ours.tolist()
    assert theirs["views"][1].untyped_storage().data_ptr() == theirs["views"][0].untyped_storage(
    ).data_ptr()


# ---- what the limits leave alone ----------------------------------------------------------------


def test_an_error_of_the_callers_map_location_passes_through():
    def refuse(storage, location):
        raise ValueError("no room on this device")

    with pytest.raises(ValueError, match="no room"):
        load_bytes(CHECKPOINT, map_location=refuse)


def test_weights_only_false_trusts_the_file():
    """The limits guard against hostile files; a file trusted to run code may have any keys."""
    obj = {(1, 2): "pair", 2 ** 70: "big"}
    assert load_bytes(archive_with(pickle.dumps(obj, protocol=2)), weights_only=False) == obj


def test_ordered_dict_from_pairs_is_refused():
    """OrderedDict(pairs) would insert keys no check sees (here 200 with one hash); pickle
    makes an OrderedDict empty and fills it by SETITEMS, whose keys are checked."""
    pairs = ([(key, None) for key in colliding_ints(200)],)
    data_pkl = b"\x80\x02" + reduce_ops("collections.OrderedDict", body(pairs)) + b"."
    assert_refused(archive_with(data_pkl), pickle.UnpicklingError, match="made empty")


def test_calls_by_the_obj_and_inst_opcodes_count_as_work():
    """OBJ and INST call a global as REDUCE does: one memoized list passed to 10,000 set()s."""
    first = b"(c__builtin__\nset\n" + body(list(range(1000))) + b"q\x00o"
    data_pkl = b"\x80\x02](" + first + b"(c__builtin__\nset\nh\x00o" * 10_000 + b"e."
    assert_refused(archive_with(data_pkl), pickle.UnpicklingError, match="more work")
    inst = b"(" + body(list(range(1000))) + b"q\x00i__builtin__\nset\n"
    data_pkl = b"\x80\x02](" + inst + b"(h\x00i__builtin__\nset\n" * 10_000 + b"e."
    assert_refused(archive_with(data_pkl), pickle.UnpicklingError, match="more work")


class Allowed:
    threshold = 0.5


def test_build_on_a_callers_allowed_class_is_refused():
    """BUILD on a global sets attributes on it for the whole process: the class is shared."""
    name = f"{__name__}\nAllowed\n".encode()
    data_pkl = b"\x80\x02c" + name + body((None, {"threshold": 2.0})) + b"b."
    with serialization.safe_globals([Allowed]):
        assert_refused(archive_with(data_pkl), pickle.UnpicklingError, match="change")
    assert Allowed.threshold == 0.5


def test_build_on_a_storage_is_refused():
    """A tensor is checked to fit its storage's array; BUILD could swap the array after."""
    storage = pickled(StorageRef(torch.FloatStorage, "0", "cpu", 2))
    data_pkl = storage[:-1] + body((None, {"array": None})) + b"b."
    assert_refused(archive_with(data_pkl, {"data/0": b"\x00" * 8}), pickle.UnpicklingError,
                   match="change")


def test_mmap_checks_the_record_names_as_zipfile_does(tmp_path):
    """A local header that names another record than the directory does: zipfile refuses it
    when load reads, and load with mmap, which finds the bytes itself, refuses it too."""
    data = plain_checkpoint()
    at = data.index(b"archive/data/0")  # in its local header, before the central directory's
    path = tmp_path / "renamed.pt"
    path.write_bytes(data[:at] + b"archive/data/9" + data[at + 14:])
    for use_mmap in (False, True):
        with pytest.raises(RuntimeError, match="corrupt"):
            load(path, mmap=use_mmap)


class Point(tuple):
    pass


def test_newobj_calls_count_as_work():
    """NEWOBJ makes an allowed class's instance, cls.__new__(cls, *args): one memoized list of
    1,000 items passed to 10,000 of them would be ten million steps."""
    cls = f"c{__name__}\nPoint\n".encode()
    first = cls + b"q\xc8" + body((list(range(1000)),)) + b"q\xc9\x81"  # memo 200, 201
    data_pkl = b"\x80\x02](" + first + b"h\xc8h\xc9\x81" * 10_000 + b"e."
    with serialization.safe_globals([Point]):
        assert len(load_bytes(archive_with(b"\x80\x02" + first + b"."))) == 1000
        assert_refused(archive_with(data_pkl), pickle.UnpicklingError, match="more work")
