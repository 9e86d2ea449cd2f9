"""Saving and loading checkpoints in PyTorch's file format: ``ember.save`` and ``ember.load``.

A file that ``ember.save`` writes loads with ``torch.load``, and ``ember.load`` reads the files
that ``torch.save`` writes.

The format
----------
A checkpoint is a zip archive whose records are stored uncompressed in one folder, named after
the file (``model.pt`` gives ``model/``; a file object gives ``archive/``)::

    archive/data.pkl                 the saved object, pickled with protocol 2
    archive/.format_version          "1"
    archive/.storage_alignment       "64": each record's bytes start at a multiple of 64
    archive/byteorder                "little" or "big"
    archive/data/0, archive/data/1   the bytes of each storage, in the order data.pkl uses them
    archive/version                  "3"
    archive/.data/serialization_id   a random number that names this file

Tensor data is not in ``data.pkl``. There each tensor is the call
``torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks)``,
and ``storage`` is a *persistent id*, ``('storage', torch.FloatStorage, '0', 'cpu', 12)``: the
storage's type (which gives its dtype), its record (``data/0``), the device it was saved from and
its length in elements. A tensor is a strided view of a storage, so tensors that share memory
(``t[1:]``, ``t.t()``, tied weights) point at one storage and their bytes are saved once.

Safety
------
Unpickling calls whatever functions a file names, so a file from the internet could run any
code; it could also keep the loader busy for hours or make it allocate terabytes. With
``weights_only=True`` (the default) ``load`` keeps to these rules:

- **Globals.** Each global in data.pkl comes from an allow-list of what ``torch.save`` writes
  for tensors, parameters, state_dicts and optimizer state: PyTorch's tensor rebuild functions,
  storage types, dtypes, ``torch.Size``, ``torch.device``, ``OrderedDict``, ``set``,
  ``complex``, and bytes (``_codecs.encode`` with the latin-1 codec only, ``bytearray`` of bytes
  only). Any other global raises ``pickle.UnpicklingError`` naming it, before it is imported.
  No global can be changed (pickle's BUILD on one is refused): each is shared by the process.
- **Sizes.** Every size the file declares is checked against the file's real size before
  anything is allocated: each record lies inside the file, each storage's element count matches
  its record, each tensor lies inside its storage with sizes and strides that fit in int64.
- **Work.** The allowed functions and pickle's BUILD together take no more items than data.pkl
  has bytes, so a file can't hand one memoized list to ``set`` a million times. Dict keys and
  set items are strings, bytes, None, bools, floats or ints within int64, of which no file can
  make many share a hash (that would make building a dict quadratic). data.pkl runs on Python's
  unpickler, whose memo is a dict; the C one allocates an array as long as the largest memo
  index the file names.
- **The archive.** Records are stored uncompressed (a compressed one is refused, not inflated),
  all in one folder, each name once: a file that two readers could read two ways is refused.
- **Errors.** Whatever is wrong with a file, ``load`` raises ``RuntimeError`` or
  ``pickle.UnpicklingError``, with a message naming the file.

``weights_only=False`` drops these rules: the file is trusted, and any global is imported.
``add_safe_globals`` (or the ``safe_globals`` context manager) adds the caller's own classes and
functions to the allow-list, as in PyTorch.

``save`` pickles with Python's own pickler, taught to write PyTorch's names (``torch.Size``,
``torch._utils._rebuild_tensor_v2``) without importing them: ember must not need PyTorch to
save. It pickles into memory first, so an object that can't be pickled writes nothing. Saving
to a path goes through a temporary file, ``.<name>.<host>.<pid>.<random>.tmp``, renamed over
the target once complete: the target is never half-written, and a later save removes
temporary files that a killed process left.
"""

import collections
import contextlib
import io
import mmap
import os
import pickle
import socket
import struct
import sys
import tempfile
import uuid
import warnings
import zipfile
import zlib
from typing import IO, Any, Callable, Optional, Union

import numpy as np

from . import _backend, _dtype
from ._size import Size
from ._tensor import Tensor

FileLike = Union[str, os.PathLike, IO[bytes]]
MapLocation = Union[None, str, _backend.device, dict, Callable]

# PyTorch's name for the storage of each dtype: a torch.FloatStorage holds float32 numbers.
_STORAGE_TYPES = {
    "FloatStorage": _dtype.float32,
    "DoubleStorage": _dtype.float64,
    "HalfStorage": _dtype.float16,
    "LongStorage": _dtype.int64,
    "IntStorage": _dtype.int32,
    "ShortStorage": _dtype.int16,
    "CharStorage": _dtype.int8,
    "ByteStorage": _dtype.uint8,
    "BoolStorage": _dtype.bool,
    "ComplexFloatStorage": _dtype.complex64,
    "ComplexDoubleStorage": _dtype.complex128,
}
_STORAGE_TYPE_NAMES = {dtype: name for name, dtype in _STORAGE_TYPES.items()}


def _parameter_type() -> type:
    """``ember.nn.Parameter``, imported on first use: ember.nn imports much of ember."""
    from .nn.parameter import Parameter
    return Parameter


# ---- save: data.pkl -------------------------------------------------------------------------


class _Global:
    """A global that data.pkl names, e.g. ``torch.FloatStorage``, written without importing it.

    Callable only so that pickle accepts it as the function of a reduce tuple; the unpickler
    calls what the name stands for, never this object.
    """

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def __call__(self, *args):
        raise TypeError(f"{self.module}.{self.name} is a name written into a checkpoint")


class _Rebuild:
    """``function(*args)`` in data.pkl, e.g. a tensor's rebuild inside a parameter's."""

    __slots__ = ("function", "args")

    def __init__(self, function: _Global, args: tuple) -> None:
        self.function = function
        self.args = args


class _StorageRef:
    """A storage in data.pkl: written as a persistent id, its bytes as a record of its own."""

    __slots__ = ("id",)

    def __init__(self, id: tuple) -> None:
        self.id = id


def _pickler_type(pickle_module) -> type:
    """The pickler class ``save`` uses with ``pickle_module`` (Python's pickle, or one like dill
    whose Pickler extends Python's own)."""
    base = pickle._Pickler if pickle_module is pickle else pickle_module.Pickler
    if not (isinstance(base, type) and issubclass(base, pickle._Pickler)):
        raise TypeError(f"ember.save can't pickle with {pickle_module!r}: its Pickler must "
                        "extend pickle._Pickler, Python's pickler, which ember teaches to "
                        "write PyTorch's names without importing PyTorch")
    if base not in _PICKLERS:
        _PICKLERS[base] = type("_CheckpointPickler", (_CheckpointPicklerMixin, base),
                               {"dispatch": dict(base.dispatch)})
        _PICKLERS[base].dispatch[_Global] = _CheckpointPicklerMixin.save_name
        for dtype_type in (_dtype.dtype, type(_dtype.bfloat16)):  # dispatch is by exact type
            _PICKLERS[base].dispatch[dtype_type] = _CheckpointPicklerMixin.save_dtype
    return _PICKLERS[base]


_PICKLERS: dict = {}  # pickler base class -> the checkpoint pickler built on it


class _CheckpointPicklerMixin:
    """Pickles any object as ``pickle`` does, and tensors, dtypes, sizes and devices as
    ``torch.save`` does: ``torch.load`` reads the tensors as its own.

    It extends Python's pickler, not the faster C one, because only Python's lets a subclass
    write a global by name: the C one imports each global to check it, and ember must not need
    PyTorch to save. Tensor data stays out of data.pkl: ``self.storages`` collects the arrays
    to write as records ``data/0``, ``data/1``, ...
    """

    def __init__(self, file: IO[bytes], protocol: int) -> None:
        super().__init__(file, protocol)
        self.storages: list = []
        self._storage_keys: dict = {}  # id(array in self.storages) -> its key
        self._parameter_type = _parameter_type()

    def persistent_id(self, obj):
        return obj.id if type(obj) is _StorageRef else None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        if type(obj) is _Rebuild:
            return obj.function, obj.args
        if isinstance(obj, Size):
            return _Global("torch", "Size"), (tuple(obj),)
        if isinstance(obj, _backend.device):
            return _Global("torch", "device"), ((obj.type,) if obj.index is None
                                                else (obj.type, obj.index))
        return NotImplemented

    def save_name(self, obj: _Global) -> None:
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))

    def save_dtype(self, obj: _dtype.dtype) -> None:
        self.save_name(_Global("torch", obj.name))

    def _reduce_tensor(self, tensor: Tensor) -> tuple:
        storage, offset, stride = self._storage_view(tensor._data)
        hooks = collections.OrderedDict()
        is_parameter = isinstance(tensor, self._parameter_type)
        args = (storage, offset, tuple(tensor._data.shape), stride,
                tensor.requires_grad and not is_parameter, hooks)
        if not is_parameter:
            return _Global("torch._utils", "_rebuild_tensor_v2"), args
        rebuild = _Rebuild(_Global("torch._utils", "_rebuild_tensor_v2"), args)
        return _Global("torch._utils", "_rebuild_parameter"), (rebuild, tensor.requires_grad,
                                                               hooks)

    def _storage_view(self, array) -> tuple:
        """(storage, offset, stride) that rebuild ``array`` as a view.

        The storage is the array that owns ``array``'s memory when ``array`` is a strided view
        into it, so views of one array share one storage; otherwise it is a contiguous copy.
        """
        owner = array
        xp = _backend.array_module(array)
        while isinstance(owner.base, xp.ndarray):
            owner = owner.base
        view = _locate_view(array, owner)
        if view is None:
            owner = xp.ascontiguousarray(array).reshape(-1)
            view = 0, _contiguous_strides(array.shape)
        key = self._storage_keys.get(id(owner))
        if key is None:
            key = len(self.storages)
            self._storage_keys[id(owner)] = key
            self.storages.append(owner)
        storage_type = _STORAGE_TYPE_NAMES[_dtype.from_numpy(owner.dtype)]
        location = str(_backend.device_of(owner))
        storage = _StorageRef(("storage", _Global("torch", storage_type), str(key), location,
                               int(owner.size)))
        return (storage, *view)


def _locate_view(array, owner) -> Optional[tuple]:
    """(offset, stride) in elements that place ``array`` in ``owner``'s memory, when possible.

    Possible when ``owner`` is C-contiguous (a flat storage) of the same dtype and ``array``
    starts and steps through it in whole, non-negative elements.
    """
    if owner.dtype != array.dtype or not owner.flags.c_contiguous or array.size == 0:
        return None
    itemsize = array.itemsize
    offset = _backend.address(array) - _backend.address(owner)
    if offset % itemsize or any(s < 0 or s % itemsize for s in array.strides):
        return None
    return offset // itemsize, tuple(s // itemsize for s in array.strides)


def _contiguous_strides(shape: tuple) -> tuple:
    """The strides, in elements, of a C-contiguous array of ``shape``."""
    strides = []
    step = 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


# ---- save: the zip archive ------------------------------------------------------------------

_ALIGNMENT = 64
_ZIP64_LIMIT = 0xFFFFFFFF  # sizes and offsets from here on need zip64 fields, as in PyTorch
_ZIP64_MARK = 0xFFFFFFFF  # what a 32-bit field holds when the zip64 field has its value
_UTF8_NAMES_AND_DATA_DESCRIPTOR = 0x0808  # general purpose flags: bits 11 and 3
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01, zip's first day: checkpoints carry no clock
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")


class _ZipWriter:
    """Writes an uncompressed zip archive laid out as PyTorch's writer lays it out.

    Each record is a local header, the record's bytes and a data descriptor (CRC and sizes).
    The header's extra field pads it with "FB" + "Z"s so that the bytes start at a multiple of
    64; records past 4 GiB get zip64 fields, and PyTorch computes their offsets from the same
    rule. The central directory and the zip64 end records close the archive.
    """

    def __init__(self, file: IO[bytes], folder: str) -> None:
        self._file = file
        self._folder = folder
        self._offset = 0
        self._entries: list = []  # (name, crc, size, offset of the local header)

    def write_record(self, name: str, data) -> None:
        data = memoryview(data)
        full_name = f"{self._folder}/{name}".encode("utf-8")
        size, offset = data.nbytes, self._offset
        crc = zlib.crc32(data)
        zip64 = _zip64_extra(size, offset)
        start = offset + _LOCAL_HEADER.size + len(full_name) + len(zip64) + 4
        padding = -start % _ALIGNMENT
        extra = zip64 + b"FB" + struct.pack("<H", padding) + b"Z" * padding
        # With a data descriptor (flag bit 3) the header leaves the CRC and sizes zero.
        self._write(_LOCAL_HEADER.pack(0x04034B50, 45 if zip64 else 20,
                                       _UTF8_NAMES_AND_DATA_DESCRIPTOR, 0, 0, _DOS_DATE, 0, 0, 0,
                                       len(full_name), len(extra)))
        self._write(full_name + extra)
        self._write(data)
        self._write(struct.pack("<IIQQ" if zip64 else "<IIII", 0x08074B50, crc, size, size))
        self._entries.append((full_name, crc, size, offset))

    def finish(self) -> None:
        """Write the central directory and the end records."""
        directory_offset = self._offset
        for name, crc, size, offset in self._entries:
            zip64 = _zip64_extra(size, offset)
            size32, offset32 = _zip32(size), _zip32(offset)
            self._write(_CENTRAL_HEADER.pack(
                0x02014B50, 45, 45 if zip64 else 20, _UTF8_NAMES_AND_DATA_DESCRIPTOR, 0, 0,
                _DOS_DATE, crc, size32, size32, len(name), len(zip64), 0, 0, 0, 0, offset32))
            self._write(name + zip64)
        directory_size = self._offset - directory_offset
        count = len(self._entries)
        end64_offset = self._offset
        self._write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count,
                                directory_size, directory_offset))
        self._write(struct.pack("<IIQI", 0x07064B50, 0, end64_offset, 1))
        count16 = min(count, 0xFFFF)
        self._write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count16, count16,
                                _zip32(directory_size), _zip32(directory_offset), 0))

    def _write(self, data) -> None:
        self._file.write(data)
        self._offset += memoryview(data).nbytes


def _zip32(value: int) -> int:
    """``value`` for a 32-bit field: itself, or the mark that sends readers to zip64 fields."""
    return _ZIP64_MARK if value >= _ZIP64_LIMIT else value


def _zip64_extra(size: int, offset: int) -> bytes:
    """The zip64 extra field a record needs: its sizes and/or offset, when they pass 4 GiB."""
    fields = []
    if size >= _ZIP64_LIMIT:
        fields += [size, size]
    if offset >= _ZIP64_LIMIT:
        fields.append(offset)
    if not fields:
        return b""
    return struct.pack(f"<HH{len(fields)}Q", 0x0001, 8 * len(fields), *fields)


def _write_checkpoint(file: IO[bytes], folder: str, data_pkl: bytes, storages: list,
                      byteorder_first: bool) -> None:
    """The archive, its records in PyTorch's order. ``torch.save(_disable_byteorder_record=
    True)`` doesn't leave the byteorder record out: PyTorch's writer adds it at the end."""
    archive = _ZipWriter(file, folder)
    archive.write_record("data.pkl", data_pkl)
    archive.write_record(".format_version", b"1")
    archive.write_record(".storage_alignment", str(_ALIGNMENT).encode())
    if byteorder_first:
        archive.write_record("byteorder", sys.byteorder.encode())
    for key, array in enumerate(storages):
        host = _backend.move(array, _backend.CPU)  # one storage at a time, to bound memory
        archive.write_record(f"data/{key}", host.reshape(-1).view(np.uint8))
    archive.write_record("version", b"3\n")
    if not byteorder_first:
        archive.write_record("byteorder", sys.byteorder.encode())
    archive.write_record(".data/serialization_id", f"{uuid.uuid4().int:040d}".encode())
    archive.finish()


# ---- save ----------------------------------------------------------------------------------


def save(obj: Any, f: FileLike, pickle_module: Any = pickle, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:
    """Save ``obj`` (a state_dict, an optimizer's state, a whole model, any picklable object).

    The file is a PyTorch checkpoint. Tensors, dtypes, ``ember.Size`` and ``ember.device`` are
    written as ``torch.save`` writes torch's, so ``torch.load`` reads a state_dict or a nest
    of tensors as torch tensors (``weights_only=True`` suffices); everything else is pickled
    as ``pickle`` would (a whole ember module then loads with ``ember.load(f,
    weights_only=False)``, not in PyTorch). Tensors on the GPU are saved as their CPU data,
    with their device noted for ``load``. Tensors that share memory are saved once, as views
    of one storage; as in PyTorch, a view saves all of the array it views, so save
    ``t[:10].clone()`` to save only those ten elements.

    Nothing is written until ``obj`` is pickled, so an object that can't be pickled leaves
    ``f`` untouched. Saving to a path is atomic: ember writes a temporary file in the same
    folder, flushes it to disk and renames it over ``f``. If saving fails or the process dies
    midway, the file that was at ``f`` stays as it was; a failed save removes its temporary
    file, and the next save to ``f`` removes those of processes that died.

    Args:
        obj: what to save.
        f: a path (``str`` or ``os.PathLike``), or a binary file object to write to.
        pickle_module: the module whose Pickler pickles ``obj``: ``pickle``, or one whose
            Pickler extends Python's ``pickle._Pickler`` (dill's does).
        pickle_protocol: the pickle protocol of data.pkl; PyTorch's default is 2.
        _use_new_zipfile_serialization: must be True: ember writes only the zip format
            (PyTorch's since 1.6), not the legacy one.
        _disable_byteorder_record: write the ``byteorder`` record last instead of before the
            storages, as PyTorch 2.13 does (its writer adds the record regardless).

    Raises:
        pickle.PicklingError, TypeError, AttributeError: ``obj`` holds something that can't be
            pickled (a lambda, a lock, an open file), as with ``pickle.dump``; nothing is
            written then.

    Example:
        >>> import ember, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "weights.pt")
        >>> ember.save({"weight": ember.ones(2, 3), "step": 10}, path)
        >>> ember.load(path)["weight"].shape
        ember.Size([2, 3])
    """
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("ember.save writes only the zip format that PyTorch uses "
                                  "since 1.6; _use_new_zipfile_serialization=False would ask "
                                  "for the legacy one")
    data_pkl = io.BytesIO()
    pickler = _pickler_type(pickle_module)(data_pkl, pickle_protocol)
    pickler.dump(obj)

    def write(file: IO[bytes], folder: str) -> None:
        _write_checkpoint(file, folder, data_pkl.getvalue(), pickler.storages,
                          not _disable_byteorder_record)

    if not isinstance(f, (str, os.PathLike)):
        write(f, "archive")
        return
    path = os.path.realpath(f)  # through a symlink, replace the file it points to
    folder = os.path.splitext(os.path.basename(path))[0] or "archive"
    _replace_atomically(path, lambda file: write(file, folder))


def _replace_atomically(path: str, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it to ``path``."""
    directory, name = os.path.split(path)
    mode = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else _new_file_mode()
    _remove_stale_temporaries(directory, name)
    temporary = tempfile.NamedTemporaryFile(dir=directory, prefix=_temporary_prefix(name),
                                            suffix=".tmp", delete=False)
    try:
        with temporary:
            write(temporary)
            temporary.flush()
            os.fsync(temporary.fileno())
        os.chmod(temporary.name, mode)
        os.replace(temporary.name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary.name)
        raise
    _fsync_directory(directory)


def _temporary_prefix(name: str) -> str:
    """``.<name>.<host>.<pid>.``: a temporary file's name says which process writes it.

    A process killed midway (SIGKILL, power loss) leaves its temporary file behind, as large as
    the checkpoint; the name lets a later save tell such leftovers from a live writer's file.
    """
    return f".{name}.{socket.gethostname()}.{os.getpid()}."


def _remove_stale_temporaries(directory: str, name: str) -> None:
    """Delete the temporary files that earlier saves to ``name`` left when their process died.

    Only files this machine's processes wrote, and only where the process is gone: another
    process saving to the same path at the same time keeps its file. (POSIX only: Windows
    has no harmless way to ask whether a process exists.)
    """
    if os.name != "posix":
        return
    prefix = f".{name}.{socket.gethostname()}."
    for entry in os.listdir(directory or "."):
        rest = entry[len(prefix):].split(".")  # [pid, tempfile's random letters, "tmp"]
        if (entry.startswith(prefix) and len(rest) == 3 and rest[0].isdigit()
                and rest[2] == "tmp" and not _process_exists(int(rest[0]))):
            with contextlib.suppress(FileNotFoundError):  # another save removed it first
                os.unlink(os.path.join(directory, entry))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0 sends nothing: it only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and belongs to another user
        return True
    return True


def _new_file_mode() -> int:
    """The mode ``open(path, "wb")`` would give a new file: 0o666 less the process umask."""
    umask = os.umask(0o022)  # the umask can only be read by setting it; put it back at once
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_directory(directory: str) -> None:
    """Make the rename durable: flush the directory entry (POSIX; Windows has no such call)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    except OSError:  # some file systems (network ones) refuse; the file is in place regardless
        pass
    finally:
        os.close(descriptor)


# ---- load: what the globals in data.pkl stand for -------------------------------------------

_INT64_LIMIT = 1 << 63  # PyTorch keeps sizes, strides and offsets in int64


class _Unchangeable:
    """Refuses pickle's BUILD opcode, which sets attributes on the object before it.

    The allowed globals are shared by every load; a file that could change one (a rebuild
    function's defaults, a storage type's dtype) would change what later loads return.
    """

    __slots__ = ()

    def __setstate__(self, state) -> None:
        raise pickle.UnpicklingError(f"data.pkl tries to change {self!r}, a global it names")


class _Allowed(_Unchangeable):
    """A function or class that data.pkl may call, which the file can call but not change.

    Being an instance, not a class, it also keeps pickle's NEWOBJ opcode (``cls.__new__(cls,
    *args)``) from reaching the class behind it with arguments that no check has seen.
    """

    __slots__ = ("function",)

    def __init__(self, function: Callable) -> None:
        self.function = function

    def __call__(self, *args):
        return self.function(*args)

    def __repr__(self) -> str:
        return f"{self.function.__module__}.{self.function.__qualname__}"


class _StorageType(_Unchangeable):
    """What ``torch.FloatStorage`` and the like stand for in data.pkl: a storage's dtype."""

    __slots__ = ("name", "dtype")

    def __init__(self, name: str, dtype: _dtype.dtype) -> None:
        self.name = name
        self.dtype = dtype

    def __repr__(self) -> str:
        return f"torch.{self.name}"


_UNTYPED_STORAGE = _StorageType("UntypedStorage", _dtype.uint8)  # bytes; tensors give the dtype


class _Storage(_Unchangeable):
    """A storage read from the archive: a flat array on the device it is loaded to.

    Unchangeable: its tensors are checked to fit its array, which BUILD could swap.
    """

    __slots__ = ("array", "_computed")

    def __init__(self, array) -> None:
        self.array = array
        self._computed: dict = {}  # (dtype, conj, neg) -> the storage's elements so changed

    def elements(self, dtype: Optional[_dtype.dtype], metadata) -> Any:
        """The storage's elements read as ``dtype`` (None: its own), changed as ``metadata`` says.

        PyTorch's conjugate and negative views are lazy; ember computes them, once per storage:
        tensors that share a storage then share the result, and a file can't make ember copy
        one storage once for each of its many views.
        """
        array = self.array
        if dtype is not None:
            if array.nbytes % dtype.itemsize:
                raise RuntimeError(f"a storage of {array.nbytes} bytes can't hold {dtype} "
                                   f"elements of {dtype.itemsize} bytes")
            array = array.view(dtype.numpy)
        metadata = {} if metadata is None else metadata
        if not isinstance(metadata, dict) or set(metadata) - {"conj", "neg"}:
            raise pickle.UnpicklingError(f"unknown tensor metadata {metadata!r:.100}")
        conj, neg = bool(metadata.get("conj")), bool(metadata.get("neg"))
        if not (conj or neg):
            return array
        key = (array.dtype, conj, neg)
        if key not in self._computed:
            xp = _backend.array_module(array)
            changed = xp.conj(array) if conj else array
            self._computed[key] = xp.negative(changed) if neg else changed
        return self._computed[key]


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None) -> Tensor:
    """``torch._utils._rebuild_tensor_v2``: a tensor that views ``storage``."""
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError(f"a tensor's storage is a {type(storage).__name__}")
    return _tensor_from_array(storage.elements(None, metadata), storage_offset, size, stride,
                              requires_grad)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None) -> Tensor:
    """``torch._utils._rebuild_tensor_v3``: a tensor of ``dtype`` that views an untyped storage."""
    if not isinstance(storage, _Storage) or not isinstance(dtype, _dtype.dtype):
        raise pickle.UnpicklingError("_rebuild_tensor_v3 needs a storage and a dtype")
    return _tensor_from_array(storage.elements(dtype, metadata), storage_offset, size, stride,
                              requires_grad)


def _rebuild_parameter(data, requires_grad, backward_hooks) -> Tensor:
    """``torch._utils._rebuild_parameter``: an ``ember.nn.Parameter``."""
    if not isinstance(data, Tensor):
        raise pickle.UnpicklingError(f"a parameter's data is a {type(data).__name__}")
    return _parameter_type()(data, requires_grad=bool(requires_grad))


def _tensor_from_array(array, offset, size, stride, requires_grad) -> Tensor:
    tensor = Tensor._wrap(_strided_view(array, offset, size, stride))
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def _strided_view(array, offset, size, stride):
    """``array[offset:]`` seen with ``size`` and ``stride`` (in elements), checked to fit.

    The check matters: ``as_strided`` trusts its arguments, and they come from the file. Sizes
    and strides must also fit in int64, as in PyTorch, and in NumPy's limit on an array's bytes.
    """
    def is_index(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    if not (is_index(offset) and isinstance(size, tuple) and isinstance(stride, tuple)
            and len(size) == len(stride) and all(map(is_index, size + stride))):
        raise pickle.UnpicklingError(f"invalid tensor layout: offset {offset!r:.40}, size "
                                     f"{size!r:.100}, stride {stride!r:.100}")
    itemsize = array.itemsize
    numel = nonzero_numel = 1
    for n in size:
        numel *= n
        nonzero_numel *= max(n, 1)
    if (offset >= _INT64_LIMIT or nonzero_numel * itemsize >= _INT64_LIMIT
            or any(s * itemsize >= _INT64_LIMIT for s in stride)):
        raise RuntimeError(f"a tensor of size {list(size)}, stride {list(stride)} and offset "
                           f"{offset} is too large to exist")
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if numel and last >= array.size:
        raise RuntimeError(f"a tensor of size {list(size)}, stride {list(stride)} and offset "
                           f"{offset} reaches element {last} of a storage of {array.size}")
    xp = _backend.array_module(array)
    return xp.lib.stride_tricks.as_strided(array[offset:] if numel else array[:0], shape=size,
                                           strides=tuple(s * itemsize for s in stride))


def _encode(text, encoding):
    """``_codecs.encode(text, "latin1")``: how protocol 2 pickles ``bytes``.

    Only latin-1, which maps each character to one byte in linear time: other codecs can take
    time quadratic in their input, or decompress it (zlib_codec, bz2_codec).
    """
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"_codecs.encode of a {type(text).__name__} with codec "
                                     f"{encoding!r:.40}: a checkpoint's bytes use latin1")
    return text.encode("latin-1")


def _bytearray(*args) -> bytearray:
    """``bytearray()`` or ``bytearray(some_bytes)``: how protocol 2 pickles a bytearray.

    Not ``bytearray(n)``, which would let a few bytes of data.pkl allocate n of them.
    """
    if args == () or (len(args) == 1 and isinstance(args[0], bytes)):
        return bytearray(*args)
    raise pickle.UnpicklingError(f"bytearray of {args!r:.100}: a checkpoint's bytearrays are "
                                 "made from bytes")


def _complex(real=0.0, imag=0.0) -> complex:
    """``complex(real, imag)``, how pickle saves a complex number: from two numbers only."""
    if not all(isinstance(part, (int, float)) for part in (real, imag)):
        raise pickle.UnpicklingError("complex() takes two numbers in a checkpoint")
    return complex(real, imag)


def _ordered_dict(*args) -> collections.OrderedDict:
    """``OrderedDict()``, as pickle saves one: its items follow by SETITEMS, whose keys are
    checked. Not ``OrderedDict(pairs)``, whose keys no check would see."""
    if args:
        raise pickle.UnpicklingError(f"OrderedDict of {args!r:.100}: a checkpoint's "
                                     "OrderedDicts are made empty, then filled")
    return collections.OrderedDict()


def _set(items=()) -> set:
    """``set(items)``, as pickle saves a set, of items whose hash a file can't choose."""
    _check_plain_keys(items)
    return set(items)


def _check_plain_keys(keys) -> None:
    """Refuse dict keys and set items other than strings, bytes, None, numbers in int64's range.

    A dict or set holding n keys with one hash takes n * n steps to build. Python hashes
    strings and bytes with a per-process secret, and the ints and floats let in here share a
    hash with only a few others; but the hash of a tuple of ints, or of a huge int, can be
    chosen, so a small file could keep ``load`` busy for hours.
    """
    for key in keys:
        if isinstance(key, int) and not isinstance(key, bool):
            plain = -_INT64_LIMIT <= key < _INT64_LIMIT
        else:
            plain = key is None or isinstance(key, (str, bytes, bool, float))
        if not plain:
            raise pickle.UnpicklingError(f"a dict key or set item {key!r:.60} of type "
                                         f"{type(key).__name__}: in a checkpoint they are "
                                         "strings, bytes, None, bools, ints or floats")


def _allowed_globals() -> dict:
    """(module, name) -> object, for every global ``load`` lets data.pkl name.

    What ``torch.save`` writes for tensors, parameters, state_dicts and optimizer state (and the
    numbers, strings, bytes, sets, dtypes, sizes and devices around them), and nothing else.
    Functions and classes are wrapped in ``_Allowed``, so the file can call them but not
    change them.
    """
    allowed = {
        ("collections", "OrderedDict"): _Allowed(_ordered_dict),
        ("torch._utils", "_rebuild_tensor_v2"): _Allowed(_rebuild_tensor_v2),
        ("torch._utils", "_rebuild_tensor_v3"): _Allowed(_rebuild_tensor_v3),
        ("torch._utils", "_rebuild_parameter"): _Allowed(_rebuild_parameter),
        ("torch.storage", "UntypedStorage"): _UNTYPED_STORAGE,
        ("torch", "Size"): _Allowed(Size),
        ("torch", "device"): _Allowed(_backend.device),
        ("_codecs", "encode"): _Allowed(_encode),
    }
    for module in ("builtins", "__builtin__"):  # protocol 2 names Python 3's builtins __builtin__
        allowed[module, "set"] = _Allowed(_set)
        allowed[module, "complex"] = _Allowed(_complex)
        allowed[module, "bytearray"] = _Allowed(_bytearray)
    for name, dtype in _STORAGE_TYPES.items():
        allowed["torch", name] = _StorageType(name, dtype)
    for dtype in (*_dtype.ALL, _dtype.bfloat16):  # bfloat16 names a dtype, holds no tensor
        allowed["torch", dtype.name] = dtype
    return allowed


_ALLOWED_GLOBALS = _allowed_globals()


# ---- load: the globals the caller allows -----------------------------------------------------

_safe_globals: list = []  # what add_safe_globals was given, in order


def add_safe_globals(safe_globals: list) -> None:
    """Let ``load(weights_only=True)`` unpickle these classes and functions too.

    Each entry is a class or function, found in data.pkl by its ``module.qualname``, or a pair
    ``(obj, "module.name")`` for one that data.pkl names otherwise. Allow only what you trust:
    the file may call an allowed function with any arguments, and make instances of an allowed
    class without calling ``__init__``.

    Args:
        safe_globals: the classes and functions to allow, kept until ``clear_safe_globals``.

    Raises:
        TypeError: an entry is neither a class, a function nor such a pair.

    Example:
        >>> import fractions, io, ember
        >>> from ember import serialization
        >>> buffer = io.BytesIO()
        >>> ember.save([fractions.Fraction(1, 3)], buffer)
        >>> serialization.add_safe_globals([fractions.Fraction])
        >>> _ = buffer.seek(0)
        >>> ember.load(buffer)
        [Fraction(1, 3)]
        >>> serialization.clear_safe_globals()
    """
    for entry in safe_globals:
        _safe_global_name(entry)  # check them all before allowing any
    _safe_globals.extend(safe_globals)


def get_safe_globals() -> list:
    """The classes and functions that ``add_safe_globals`` allowed, in order.

    Example:
        >>> from ember import serialization
        >>> serialization.get_safe_globals()
        []
    """
    return list(_safe_globals)


def clear_safe_globals() -> None:
    """Forget every global that ``add_safe_globals`` allowed.

    Example:
        >>> import fractions
        >>> from ember import serialization
        >>> serialization.add_safe_globals([fractions.Fraction])
        >>> serialization.clear_safe_globals()
        >>> serialization.get_safe_globals()
        []
    """
    _safe_globals.clear()


class safe_globals:
    """A context manager that allows globals as ``add_safe_globals`` does, within its block.

    Args:
        safe_globals: the classes and functions to allow, each as ``add_safe_globals`` takes.

    Example:
        >>> import fractions, io, ember
        >>> from ember import serialization
        >>> buffer = io.BytesIO()
        >>> ember.save({"ratio": fractions.Fraction(1, 3)}, buffer)
        >>> with serialization.safe_globals([fractions.Fraction]):
        ...     _ = buffer.seek(0)
        ...     ember.load(buffer)
        {'ratio': Fraction(1, 3)}
    """

    def __init__(self, safe_globals: list) -> None:
        self.safe_globals = list(safe_globals)

    def __enter__(self) -> None:
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc_info) -> None:
        for entry in self.safe_globals:
            with contextlib.suppress(ValueError):  # clear_safe_globals in the block removed it
                _safe_globals.remove(entry)


def _safe_global_name(entry) -> str:
    """The ``module.name`` by which data.pkl names an entry of ``add_safe_globals``."""
    if isinstance(entry, tuple):
        if len(entry) == 2 and isinstance(entry[1], str):
            return entry[1]
    elif hasattr(entry, "__module__") and hasattr(entry, "__qualname__"):
        return f"{entry.__module__}.{entry.__qualname__}"
    raise TypeError(f"add_safe_globals takes classes, functions and (obj, 'module.name') "
                    f"pairs, not {entry!r:.100}")


def _safe_global(full_name: str) -> Any:
    """The object that ``add_safe_globals`` allowed under ``full_name``, or None."""
    for entry in reversed(_safe_globals):
        if _safe_global_name(entry) == full_name:
            return entry[0] if isinstance(entry, tuple) else entry
    return None


# ---- load: the zip archive ------------------------------------------------------------------

# What zipfile raises on a damaged archive: its own errors, NotImplementedError for a feature
# that a damaged header seems to ask for (a newer zip version), or the error of a read, seek,
# struct unpacking or name decoding that the damage sends astray.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError,
               ValueError, OverflowError, struct.error)


_ENCRYPTED = 0x1  # the zip flag bit of an encrypted record


def _open_archive(file: IO[bytes], source: str) -> tuple:
    """(the zip archive in ``file``, the folder of its records), its records checked."""
    try:
        archive = zipfile.ZipFile(file)
    except _ZIP_ERRORS as error:
        raise RuntimeError(f"{source} is not a checkpoint: {error} (it is truncated, or it is "
                           "not a zip archive that torch.save or ember.save wrote)") from None
    try:
        file_size = file.seek(0, os.SEEK_END)
        for info in archive.infolist():
            _check_record(info, file_size, source)
        folder = _check_names(archive.namelist(), source)
    except BaseException:
        archive.close()
        raise
    return archive, folder


def _check_record(info: zipfile.ZipInfo, file_size: int, source: str) -> None:
    """A record must be stored as is, and its bytes must lie inside the file.

    The sizes in the zip directory are the file's word; checked against the file's real size,
    they bound every allocation ``load`` makes. Compressed records are refused, not inflated:
    a megabyte of deflated zeros inflates to gigabytes, and torch.save never compresses.
    """
    name = info.filename
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & _ENCRYPTED:
        raise RuntimeError(f"{source} is not a checkpoint that ember reads: record '{name}' is "
                           "compressed or encrypted; torch.save and ember.save store records "
                           "as they are")
    if info.file_size != info.compress_size or info.header_offset + info.file_size > file_size:
        raise RuntimeError(f"{source} is corrupt: record '{name}' says it holds "
                           f"{info.file_size} bytes at offset {info.header_offset}, past the "
                           f"end of the file ({file_size} bytes)")


def _check_names(names: list, source: str) -> str:
    """The folder that holds every record, each name once: an archive that reads one way only.

    With two records of one name, or two data.pkl in two folders, which one a reader takes is
    an accident of its implementation; PyTorch refuses records outside the first one's folder.
    """
    seen = set()
    for name in names:
        if name in seen:
            raise RuntimeError(f"{source} is corrupt: the archive holds two records named "
                               f"'{name}', so it could be read two ways")
        seen.add(name)
    folder = names[0].split("/")[0] if names else ""
    for name in names:
        if not name.startswith(f"{folder}/"):
            raise RuntimeError(f"{source} is not a checkpoint: file in archive is not in a "
                               f"subdirectory {folder}/: {name}")
    if f"{folder}/data.pkl" not in seen:
        raise RuntimeError(f"{source} is not a checkpoint: the zip archive has no "
                           "<folder>/data.pkl record")
    return folder


def _record_info(archive: zipfile.ZipFile, name: str, source: str) -> zipfile.ZipInfo:
    try:
        return archive.getinfo(name)
    except KeyError:
        raise RuntimeError(f"{source} is corrupt: data.pkl refers to a record '{name}' that "
                           "the archive lacks") from None


def _read_record(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: str,
                 into: Optional[memoryview] = None) -> bytes:
    """The bytes of a record; or, given a writable buffer ``into`` of its size, fill that."""
    try:
        with archive.open(info) as record:
            if into is None:
                return record.read()
            done = 0
            while done < len(into):  # in chunks, so the copy never needs a second full buffer
                chunk = record.read(min(len(into) - done, 1 << 26))
                if not chunk:
                    raise EOFError("the record ends early")
                into[done:done + len(chunk)] = chunk
                done += len(chunk)
            return b""
    except _ZIP_ERRORS as error:
        raise RuntimeError(f"{source} is corrupt: can't read record '{info.filename}': "
                           f"{error}") from error


def _byteorder(archive: zipfile.ZipFile, folder: str, source: str) -> str:
    """The byte order the storages were written in (PyTorch before 1.10 wrote none: little)."""
    name = f"{folder}/byteorder"
    if name not in archive.namelist():
        return "little"
    byteorder = _read_record(archive, archive.getinfo(name), source).decode("ascii", "replace")
    if byteorder not in ("little", "big"):
        raise RuntimeError(f"{source} is corrupt: its byteorder record says "
                           f"{byteorder!r:.20}, not 'little' or 'big'")
    return byteorder


# ---- load: data.pkl -----------------------------------------------------------------------


class _ArchiveUnpickling:
    """What every unpickler of data.pkl does: PyTorch's names stand for ember's, and storages
    come from the archive's records (or, with ``mmap``, are mapped from the file)."""

    def __init__(self, file: IO[bytes], archive: zipfile.ZipFile, folder: str, source: str,
                 map_location: MapLocation, mapped: Optional[mmap.mmap],
                 **pickle_load_args) -> None:
        super().__init__(file, **pickle_load_args)
        self._archive = archive
        self._folder = folder
        self._source = source
        self._map_location = map_location
        self._mapped = mapped
        self._byteorder = _byteorder(archive, folder, source)
        self._storages: dict = {}
        self.map_location_error: Optional[BaseException] = None  # the caller's own, if any

    def find_class(self, module: str, name: str):
        if module == "torch" or module.startswith("torch."):
            found = _ALLOWED_GLOBALS.get((module, name))
            if found is not None:
                return found
            raise pickle.UnpicklingError(
                f"ember.load can't rebuild '{module}.{name}', which {self._source} uses: ember "
                "has no equivalent. It loads dense tensors of dtype "
                + ", ".join(d.name for d in _STORAGE_TYPES.values())
                + " and the containers, numbers and strings around them")
        return super().find_class(module, name)

    # -- storages

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)
                and isinstance(pid[3], str) and isinstance(pid[4], int) and pid[4] >= 0):
            raise pickle.UnpicklingError(f"{self._source} refers to an unknown persistent id "
                                         f"{pid!r:.200}")
        _, storage_type, key, location, numel = pid
        if key not in self._storages:
            array = self._read_storage(f"{self._folder}/data/{key}", storage_type.dtype, numel)
            self._storages[key] = _Storage(self._place(array, location))
        return self._storages[key]

    def _read_storage(self, name: str, dtype: _dtype.dtype, numel: int):
        info = _record_info(self._archive, name, self._source)
        nbytes = numel * dtype.itemsize
        # The record's size was checked against the file's when the archive was opened, so
        # this check bounds the allocation below by the file's size.
        if info.file_size != nbytes:
            raise RuntimeError(f"{self._source} is corrupt: record '{name}' holds "
                               f"{info.file_size} bytes, but data.pkl expects {numel} elements "
                               f"of {dtype} ({nbytes} bytes)")
        if self._mapped is None:
            array = np.empty(numel, dtype.numpy)
            _read_record(self._archive, info, self._source,
                         into=memoryview(array.view(np.uint8)))
        else:  # a copy-on-write view of the file: writes to it stay in this process
            array = np.frombuffer(self._mapped, dtype.numpy, numel,
                                  _record_data_offset(self._mapped, info, self._source))
        if self._byteorder != sys.byteorder:
            array = array.byteswap(inplace=self._mapped is None)
        return array

    def _place(self, array, location: str):
        """Move a storage read as ``array`` to the device ``map_location`` gives ``location``."""
        if callable(self._map_location):
            try:
                moved = self._map_location(Tensor._wrap(array), location)
            except Exception as error:
                self.map_location_error = error  # so load lets it through as it is
                raise
            if moved is not None:
                if not isinstance(moved, Tensor) or moved.shape != (array.size,):
                    raise RuntimeError(f"map_location returned {moved!r:.100} for a storage of "
                                       f"{array.size} elements; return a 1-D tensor or None")
                return moved._data
        return _backend.move(array, self._device_for(location))

    def _device_for(self, location: str) -> _backend.device:
        if isinstance(self._map_location, dict):
            requested = self._map_location.get(location)
        elif callable(self._map_location):
            requested = None
        else:
            requested = self._map_location
        if requested is not None:
            return _backend.device(requested)
        try:
            saved = _backend.device(location)
        except RuntimeError:
            raise RuntimeError(f"{self._source} holds a storage saved on '{location}', a device "
                               "ember does not have; pass map_location='cpu'") from None
        if saved.type == "cuda" and not _backend.cuda_available():
            return _backend.CPU
        return saved


def _trusting_unpickler(pickle_module) -> type:
    """The unpickler of ``load(weights_only=False)``: ``pickle_module``'s, imports any global."""
    base = pickle_module.Unpickler
    if base not in _TRUSTING_UNPICKLERS:
        _TRUSTING_UNPICKLERS[base] = type("_TrustingUnpickler", (_ArchiveUnpickling, base), {})
    return _TRUSTING_UNPICKLERS[base]


_TRUSTING_UNPICKLERS: dict = {}  # pickle_module.Unpickler -> the unpickler built on it


class _WeightsOnlyUnpickler(_ArchiveUnpickling, pickle._Unpickler):
    """Reads data.pkl with ``weights_only``: globals come from the allow-list (ember's and the
    caller's ``add_safe_globals``), and the file can't make ``load`` do much work.

    It is Python's own unpickler, not the faster C one, because the C one trusts the memo
    indices in the file (a 12-byte pickle can make it allocate gigabytes) and can't be taught
    the limits below; data.pkl is small next to the storages, so the cost hardly shows.

    The limits: the calls of allowed functions and classes (by the REDUCE, NEWOBJ, INST and OBJ
    opcodes) and pickle's BUILD together may take no more items than data.pkl has bytes (each
    item of a real checkpoint is written out once, in at least one byte; a hostile file would
    pass one memoized list to set() a million times); dict keys and set items are plain (see
    ``_check_plain_keys``); and BUILD never changes a global.
    """

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file: IO[bytes], *args, **kwargs) -> None:
        super().__init__(file, *args, **kwargs)
        self._work_left = len(file.getbuffer())
        self._globals: set = set()  # id() of each global find_class returned


    def find_class(self, module: str, name: str):
        if module == "torch" or module.startswith("torch."):
            found = super().find_class(module, name)
            self._globals.add(id(found))
            return found
        found = _ALLOWED_GLOBALS.get((module, name))
        if found is None:
            found = _safe_global(f"{module}.{name}")
        if found is not None:
            self._globals.add(id(found))
            return found
        raise pickle.UnpicklingError(
            f"Weights only load failed: ember.load refuses to unpickle '{module}.{name}' from "
            f"{self._source} with weights_only=True, because unpickling it could run arbitrary "
            "code. Only if you trust the file: load it with weights_only=False, or allow this "
            f"global with ember.serialization.add_safe_globals([{module}.{name}]) or the "
            f"ember.serialization.safe_globals([{module}.{name}]) context manager")

    # -- the opcodes that do work in proportion to what they are given

    def _spend(self, values) -> None:
        """Charge the items in ``values`` (a container's length, 1 for anything else)."""
        for value in values:
            self._work_left -= len(value) if isinstance(value, (str, bytes, tuple, list, dict,
                                                                set)) else 1
        if self._work_left < 0:
            raise pickle.UnpicklingError("data.pkl passes the same values to calls again and "
                                         "again, asking for more work than its size warrants")

    def load_reduce(self) -> None:
        self._spend(self.stack[-1])  # the arguments of the call
        super().load_reduce()

    def _instantiate(self, klass, args) -> None:  # the calls of the INST and OBJ opcodes
        self._spend(args)
        super()._instantiate(klass, args)

    def load_newobj(self) -> None:  # cls.__new__(cls, *args), for the caller's allowed classes
        self._spend(self.stack[-1])
        super().load_newobj()

    def load_newobj_ex(self) -> None:  # cls.__new__(cls, *args, **kwargs)
        self._spend((*self.stack[-2], *self.stack[-1].values()))
        super().load_newobj_ex()

    def load_build(self) -> None:
        state, target = self.stack[-1], self.stack[-2]
        # A global is shared by every load in the process, an allowed class of the caller's
        # too: BUILD on it would change what later code sees.
        if id(target) in self._globals:
            raise pickle.UnpicklingError(f"data.pkl tries to change {target!r:.100}, a global "
                                         "it names")
        self._spend(state if isinstance(state, tuple) else (state,))
        super().load_build()

    def load_setitem(self) -> None:
        _check_plain_keys(self.stack[-2:-1])
        super().load_setitem()

    def load_setitems(self) -> None:
        _check_plain_keys(self.stack[::2])  # after MARK, self.stack holds key, value, key, ...
        super().load_setitems()

    def load_dict(self) -> None:
        _check_plain_keys(self.stack[::2])
        super().load_dict()

    def load_additems(self) -> None:
        _check_plain_keys(self.stack)
        super().load_additems()

    def load_frozenset(self) -> None:
        _check_plain_keys(self.stack)
        super().load_frozenset()

    dispatch[pickle.REDUCE[0]] = load_reduce
    dispatch[pickle.NEWOBJ[0]] = load_newobj
    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex
    dispatch[pickle.BUILD[0]] = load_build
    dispatch[pickle.SETITEM[0]] = load_setitem
    dispatch[pickle.SETITEMS[0]] = load_setitems
    dispatch[pickle.DICT[0]] = load_dict
    dispatch[pickle.ADDITEMS[0]] = load_additems
    dispatch[pickle.FROZENSET[0]] = load_frozenset


# ---- load ------------------------------------------------------------------------------------


def load(f: FileLike, map_location: MapLocation = None, pickle_module: Any = None, *,
         weights_only: Optional[bool] = None, mmap: Optional[bool] = None,
         **pickle_load_args) -> Any:
    """Load an object saved by ``ember.save`` or ``torch.save``.

    With ``weights_only`` (the default) loading never runs code from the file: data.pkl may
    name only tensors' rebuild functions, storage types, dtypes, ``torch.Size``,
    ``torch.device``, plain containers and the globals the caller allowed with
    ``add_safe_globals``; any other name raises ``pickle.UnpicklingError`` before it is
    imported. Nor can a small file make it allocate or compute much more than the file's size:
    see "Safety" in the module docstring. ``weights_only=False`` unpickles whatever the file
    holds (a whole model, any Python object), as ``pickle.load`` would: only for files you
    trust. Either way PyTorch's tensors, dtypes, sizes and devices load as ember's.

    Args:
        f: a path (``str`` or ``os.PathLike``) or a seekable binary file object.
        map_location: where tensors go. None keeps the device they were saved from (the CPU when
            they come from CUDA and this machine has none); ``"cpu"``, ``"cuda:0"`` or an
            ``ember.device`` sends them all there; a dict maps saved locations to devices
            (``{"cuda:1": "cuda:0"}``); a callable ``(storage, location)`` gets each storage as
            a 1-D CPU tensor and returns it moved, or None for the default.
        pickle_module: the module whose Unpickler reads data.pkl with ``weights_only=False``
            (default ``pickle``). Giving one makes ``weights_only`` default to False, as in
            PyTorch.
        weights_only: keep the allow-list and the limits. None means True, unless
            ``pickle_module`` is given. Pass False only for a file you trust: other globals
            are then imported and called, which can run any code. As in PyTorch, the
            environment variable ``TORCH_FORCE_WEIGHTS_ONLY_LOAD=1`` makes it True whatever is
            passed, and ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` makes None mean False (with a
            warning); both set raises RuntimeError.
        mmap: map the file's storages into memory instead of reading them (``f`` must be a
            path): loading takes no time or memory for the tensors' data until it is read,
            and writes to the tensors stay in this process (copy-on-write).
        pickle_load_args: passed to the Unpickler with ``weights_only=False``, e.g.
            ``encoding="latin1"`` (default ``"utf-8"``).

    Returns:
        The saved object, with ember tensors (``ember.nn.Parameter`` for parameters). Tensors
        that shared memory when saved share it again.

    Raises:
        pickle.UnpicklingError: with ``weights_only``, data.pkl names a global outside the
            allow-list (the message says how to allow it), passes a limit, or is corrupt; the
            message names the file.
        RuntimeError: the file is empty, damaged, not a checkpoint, ambiguous (two records of
            one name), holds compressed records, or its records don't match data.pkl; the
            message names the file. Also ``weights_only=True`` with a ``pickle_module``, and
            ``mmap`` with a file object. With ``weights_only`` no other error comes from the
            file's contents (an error that a ``map_location`` function raises passes through
            unchanged).

    Example:
        >>> import ember, io
        >>> buffer = io.BytesIO()
        >>> ember.save({"bias": ember.zeros(3)}, buffer)
        >>> _ = buffer.seek(0)
        >>> ember.load(buffer, map_location="cpu")
        {'bias': tensor([0., 0., 0.])}
    """
    weights_only = _forced_weights_only(weights_only, pickle_module is None)
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                           "specified")
    if weights_only and pickle_load_args:
        warnings.warn("pickle_load_args only works if `weights_only=False`.", stacklevel=2)
    if weights_only:
        unpickler_type = _WeightsOnlyUnpickler
        pickle_load_args = {}
    else:
        unpickler_type = _trusting_unpickler(pickle if pickle_module is None else pickle_module)
        pickle_load_args.setdefault("encoding", "utf-8")
    if mmap and not isinstance(f, (str, os.PathLike)):
        raise ValueError("f must be a file path in order to use the mmap argument")
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as file:
            return _load(file, os.fspath(f), map_location, unpickler_type, bool(mmap),
                         pickle_load_args)
    return _load(f, repr(getattr(f, "name", f)), map_location, unpickler_type, False,
                 pickle_load_args)


def _forced_weights_only(weights_only: Optional[bool], default: bool) -> bool:
    """``weights_only`` after PyTorch's environment switches: ``TORCH_FORCE_WEIGHTS_ONLY_LOAD``
    forces the allow-list even over an explicit False; ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``
    (for trusted files saved as whole objects) turns it off only where the caller left
    ``weights_only`` unset, with a warning."""
    true_values = ("1", "y", "yes", "true")
    force = os.getenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "0").lower() in true_values
    force_no = os.getenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0").lower() in true_values
    if force and force_no:
        raise RuntimeError("Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or "
                           "`TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD` should be set, but both were set.")
    if force:
        return True
    if weights_only is None:
        if force_no:
            warnings.warn("Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected, since "
                          "the `weights_only` argument was not explicitly passed to `ember.load`, "
                          "forcing weights_only=False.", UserWarning, stacklevel=3)
            return False
        return default
    return weights_only


def _load(file: IO[bytes], source: str, map_location: MapLocation, unpickler_type: type,
          use_mmap: bool, pickle_load_args: dict) -> Any:
    start = file.tell()
    head = file.read(4)
    file.seek(start)
    if not head:
        raise RuntimeError(f"{source} is empty: it is not a checkpoint")
    if head[:1] == pickle.PROTO:
        raise RuntimeError(f"{source} is in PyTorch's legacy format (before version 1.6), which "
                           "ember does not read; load it with torch.load and save it again")
    archive, folder = _open_archive(file, source)
    # The whole file, copy-on-write; the tensors' arrays keep the mapping alive after the file
    # is closed.
    mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_COPY) if use_mmap else None
    weights_only = unpickler_type is _WeightsOnlyUnpickler
    with archive:
        data_pkl = _read_record(archive, archive.getinfo(f"{folder}/data.pkl"), source)
        unpickler = unpickler_type(io.BytesIO(data_pkl), archive, folder, source, map_location,
                                   mapped, **pickle_load_args)
        try:
            return unpickler.load()
        except MemoryError:  # a checkpoint too big for this machine is not a damaged one
            raise
        except Exception as error:
            # data.pkl is a program the file gives the unpickler: whatever goes wrong while it
            # runs is the file's fault, and is told as one of the two documented errors. A file
            # loaded with weights_only=False is trusted, and its errors pass as they are.
            documented = isinstance(error, (pickle.UnpicklingError, RuntimeError))
            if (not weights_only or error is unpickler.map_location_error
                    or (documented and source in str(error))):
                raise
            raise _unpickling_error(error, source) from error


def _record_data_offset(mapped: mmap.mmap, info: zipfile.ZipInfo, source: str) -> int:
    """Where a record's bytes start in the file: after its local header, name and extra field.

    The lengths come from the file, so the result is checked to leave the record inside it,
    and the header must name the record, as zipfile checks when ``load`` reads without mmap:
    the two ways of loading read one file one way.
    """
    header = mapped[info.header_offset:info.header_offset + _LOCAL_HEADER.size]
    if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise RuntimeError(f"{source} is corrupt: record '{info.filename}' has no local header "
                           f"at offset {info.header_offset}")
    name_length, extra_length = struct.unpack_from("<HH", header, 26)
    name_start = info.header_offset + _LOCAL_HEADER.size
    name = mapped[name_start:name_start + name_length]
    if name.decode("utf-8" if info.flag_bits & 0x800 else "cp437", "replace") != \
            info.orig_filename:
        raise RuntimeError(f"{source} is corrupt: the header of record '{info.filename}' names "
                           f"{name!r:.100}")
    offset = name_start + name_length + extra_length
    if offset + info.file_size > len(mapped):
        raise RuntimeError(f"{source} is corrupt: record '{info.filename}' runs past the end of "
                           "the file")
    return offset


def _unpickling_error(error: Exception, source: str) -> Exception:
    """``error``, raised while data.pkl ran, as an error of a documented type naming the file."""
    if isinstance(error, pickle.UnpicklingError):
        return pickle.UnpicklingError(f"can't load {source}: {error}")
    if isinstance(error, RuntimeError):
        return RuntimeError(f"can't load {source}: {error}")
    return pickle.UnpicklingError(f"{source} is corrupt: data.pkl can't be unpickled: "
                                  f"{type(error).__name__}: {error}")
