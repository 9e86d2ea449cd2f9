"""``DistributedDataParallel``: the same model on every rank, each on its own part of the batch;
after each backward every rank holds the average of all ranks' gradients, so the optimizers
take the same step and the replicas stay equal.

How it works (the design of PyTorch's DDP, written here on ``ember.distributed``):

- At construction the ranks check that they hold the same parameters (count, shapes, dtypes)
  and rank 0's parameters and buffers are broadcast to the others.
- The parameters are packed, in reverse order of ``module.parameters()`` (about the order in
  which backward produces their gradients), into buckets of about ``bucket_cap_mb`` (25 MB; the
  first bucket 1 MB, so that communication starts early). Each bucket is one flat array; a
  parameter of 1 MB or more has a bucket of its own, whose array is its ``.grad`` itself.
- A hook on each parameter (``register_post_accumulate_grad_hook``) runs when backward has
  written its ``.grad``. When every parameter of a bucket is ready, its gradients, divided by
  the world size, are copied into the bucket and its all-reduce (sum) starts, without waiting:
  the rest of the backward pass runs while MPI adds the bucket up. Buckets start in index order
  on every rank, as MPI needs the ranks to make their collectives in one order.
- When the last bucket started, backward waits for all of them and copies the averages back
  into the ``.grad`` of each parameter.

With ``gradient_as_bucket_view=True`` each parameter's ``.grad`` becomes, after the first
synchronized backward, a view of its place in the bucket (as in PyTorch): later backwards add
into the bucket itself, so the copy into the bucket and the copy of the average back out are
gone and the gradients take no memory of their own. ``zero_grad()`` (which sets ``.grad`` to
None) undoes it for one step: that step copies again and views again.

``no_sync()`` turns the hooks off for gradient accumulation: the gradients add up locally and
the next backward outside it all-reduces the sum. ``find_unused_parameters=True`` lets a
forward leave some parameters out of the loss: forward finds the parameters its output does not
reach, and the first gradient of backward marks them ready (they count as zero in the average).
A parameter that no rank used keeps its ``.grad`` as it was (None stays None), as in PyTorch:
a small all-reduce of "used" flags tells. Buffers (batch norm's running statistics) are
broadcast from rank 0 before each forward (``broadcast_buffers``).
"""

import contextlib
import dataclasses
import zlib

import numpy as np

from ... import distributed as dist
from ..._tensor import Tensor
from ...autograd.grad_mode import _GradMode, no_grad
from ..modules.module import Module

_FIRST_BUCKET_BYTES = 1024 * 1024  # PyTorch's dist._DEFAULT_FIRST_BUCKET_BYTES
_BUCKET_CAP_MB = 25


class _Bucket:
    """Parameters whose gradients are all-reduced together, through one flat array.

    A bucket ``in_place`` holds one large parameter, and its buffer is that parameter's
    ``.grad`` itself (seen flat) whenever the gradient lies in one C-ordered block: divided and
    all-reduced where it is, it needs no copy into a bucket and none back out. Otherwise (no
    gradient, or another layout) the bucket copies into an array of its own, as others do."""

    def __init__(self, params: list, in_place: bool = False) -> None:
        self.params = params
        self.in_place = in_place
        self.offsets = np.cumsum([0] + [p._data.size for p in params])
        self.own = np.zeros(int(self.offsets[-1]), params[0]._data.dtype)
        self.buffer = self.own  # what this backward all-reduces
        self.source = None  # the gradient array that is the buffer, when one is
        self.ready = 0  # parameters whose gradient this backward has produced
        self.work = None  # the all-reduce in flight

    def parts(self) -> list:
        """Each parameter's place in the buffer, shaped as the parameter."""
        return [self.buffer[start:end].reshape(p._data.shape)
                for p, start, end in zip(self.params, self.offsets[:-1], self.offsets[1:])]

    def holds(self, grad) -> bool:
        """Whether the array ``grad`` is (a view of) the memory this bucket all-reduced."""
        return grad is self.source or grad.base is self.buffer

    def take(self, grad) -> bool:
        """Make ``grad`` (a parameter's gradient array) the buffer when the bucket reduces in
        place and the gradient allows it; whether it did."""
        if self.in_place and grad is not None and type(grad) is np.ndarray \
                and grad.flags.c_contiguous and grad.flags.writeable:
            self.buffer, self.source = grad.reshape(-1), grad  # a view: the gradient's memory
            return True
        self.buffer, self.source = self.own, None
        return False


class DistributedDataParallel(Module):
    """Wraps ``module`` so that each backward averages the gradients over the ranks of the
    process group (``init_process_group`` must have run). Call it as the module; the module is
    ``.module``, and ``state_dict`` keys start with ``module.`` as in PyTorch
    (``ember.nn.modules.utils.consume_prefix_in_state_dict_if_present`` strips them).

    Args:
        module: the model, the same on every rank.
        device_ids, output_device, dim: accepted for PyTorch programs (CPU: one device).
        broadcast_buffers: broadcast rank 0's buffers before each forward.
        init_sync: broadcast rank 0's parameters and buffers at construction.
        process_group: the group to average over (default: the world).
        bucket_cap_mb: the size of a bucket, in MiB (default 25).
        find_unused_parameters: allow parameters that a forward does not use.
        gradient_as_bucket_view: make each ``.grad`` a view of its bucket (no copies).
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, init_sync: bool = True, process_group=None,
                 bucket_cap_mb=None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None):
        super().__init__()
        if not dist.is_initialized():
            raise ValueError("Default process group has not been initialized, please make "
                             "sure to call init_process_group.")
        self.module = module
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim
        self.process_group = dist.distributed_c10d._group(process_group)
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.require_backward_grad_sync = True
        self.bucket_bytes_cap = int((_BUCKET_CAP_MB if bucket_cap_mb is None
                                     else bucket_cap_mb) * 1024 * 1024)
        params = list(dict.fromkeys(p for p in module.parameters() if p.requires_grad))
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        self._verify_same_model(params)
        if init_sync:
            self._broadcast(list(module.parameters()) + list(module.buffers()))
        self._params = params
        self._buckets = _buckets(params[::-1], self.bucket_bytes_cap)
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        if gradient_as_bucket_view:
            for bucket in self._buckets:  # gradients already there move into the buckets
                for p, part in zip(bucket.params, bucket.parts()):
                    if p._grad is not None:
                        part[...] = p._grad._data
                        p._grad = Tensor._wrap(part)
        self._hooks = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]
        self._syncing = False  # hooks act: a forward with gradients, outside no_sync
        self._next = 0  # the next bucket to start (buckets start in order)
        self._marked = set()  # ids of the parameters marked ready in this backward
        self._unused = None  # find_unused_parameters: those to mark at the first gradient
        self._judged_unused = set()  # ... and their ids, until the next forward
        self._used_flags = None  # ... and the all-reduce of which ranks used each parameter

    # ---- construction ------------------------------------------------------------------

    def _verify_same_model(self, params: list) -> None:
        """Every rank must hold parameters of the same count, shapes and dtypes."""
        description = [(tuple(p.shape), str(p.dtype)) for p in params]
        mine = Tensor._wrap(np.array([len(params), zlib.crc32(repr(description).encode())],
                                     np.int64))
        everyone = [Tensor._wrap(np.zeros(2, np.int64)) for _ in range(self._size())]
        dist.all_gather(everyone, mine, group=self.process_group)
        if all(np.array_equal(t._data, mine._data) for t in everyone):
            return
        counts = [int(t._data[0]) for t in everyone]
        rank = self.process_group.rank()
        if len(set(counts)) > 1:
            other = next(r for r, c in enumerate(counts) if c != counts[0])
            raise RuntimeError(f"DDP expects same model across all ranks, but Rank {rank} has "
                               f"{len(params)} params, while rank {other} has inconsistent "
                               f"{counts[other]} params.")
        others = self.process_group.comm.allgather(description)  # same count: say where
        for index, entries in enumerate(zip(*others)):
            if len(set(entries)) > 1:
                shapes = ", ".join(f"rank {r}: {list(shape)} {dtype}"
                                   for r, (shape, dtype) in enumerate(entries))
                raise RuntimeError(f"DDP expects same model across all ranks, but parameter "
                                   f"{index} differs: {shapes}")

    def _size(self) -> int:
        return self.process_group.size()

    def _broadcast(self, tensors: list) -> None:
        """Rank 0's values of ``tensors`` on every rank: one broadcast per dtype."""
        by_dtype = {}
        for tensor in tensors:
            by_dtype.setdefault(tensor._data.dtype, []).append(tensor)
        for group in by_dtype.values():
            flat = Tensor._wrap(np.concatenate([t._data.reshape(-1) for t in group]))
            dist.broadcast(flat, group_src=0, group=self.process_group)
            offset = 0
            with no_grad():
                for tensor in group:
                    size = tensor._data.size
                    tensor._data[...] = flat._data[offset:offset + size].reshape(tensor.shape)
                    offset += size

    # ---- each step ---------------------------------------------------------------------

    def forward(self, *inputs, **kwargs):
        if self._syncing and any(b.ready for b in self._buckets):
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a "
                "new one. This error indicates that your module has parameters that were not "
                "used in producing loss. You can enable unused parameter detection by passing "
                "the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`.")
        if self.broadcast_buffers:
            buffers = list(self.module.buffers())
            if buffers and self._size() > 1:
                self._broadcast(buffers)
        output = self.module(*inputs, **kwargs)
        self._syncing = _GradMode.enabled and self.require_backward_grad_sync
        self._next = 0
        self._marked = set()
        self._unused = self._used_flags = None
        self._judged_unused = set()
        for bucket in self._buckets:
            bucket.ready, bucket.work = 0, None
        if self._syncing and self.find_unused_parameters:
            used = _leaves_reached(output)
            self._unused = [p for p in self._params if id(p) not in used]
            self._judged_unused = {id(p) for p in self._unused}
        return output

    def _grad_ready(self, param) -> None:
        """Backward wrote ``param.grad``: start the buckets that are complete, in order."""
        if not self._syncing:
            if id(param) in self._judged_unused:  # a gradient for a parameter taken for unused
                self._mark(param)  # raises: the average went out without it
            return
        if self._unused is not None:  # the first gradient of this backward
            unused, self._unused = self._unused, None
            self._start_used_flags(unused)
            for p in unused:
                self._mark(p)
        self._mark(param)
        while self._next < len(self._buckets):
            bucket = self._buckets[self._next]
            if bucket.ready < len(bucket.params):
                break
            self._start(bucket)
            self._next += 1
        for bucket in self._buckets[:self._next]:
            bucket.work.is_completed()  # MPI moves data only inside its calls
        if self._next == len(self._buckets):
            self._finish()

    def _mark(self, param) -> None:
        if id(param) in self._marked:
            index = next(i for i, p in enumerate(self._params) if p is param)
            raise RuntimeError(
                f"Expected to mark a variable ready only once. Parameter at index {index} with "
                f"shape {list(param.shape)} has been marked as ready twice: find_unused_"
                "parameters=True took it for unused, as the module's output (tensors, lists, "
                "tuples, dicts, dataclasses) does not reach it, yet backward gave it a "
                "gradient. Return every tensor the loss uses from forward.")
        self._marked.add(id(param))
        self._bucket_of[id(param)].ready += 1

    def _start_used_flags(self, unused: list) -> None:
        """Start summing, over the ranks, which parameters this rank's forward used."""
        skipped = {id(p) for p in unused}
        flags = np.array([id(p) not in skipped for p in self._params], np.int32)
        self._used_flags = (flags, dist.all_reduce(Tensor._wrap(flags), async_op=True,
                                                   group=self.process_group))

    def _start(self, bucket: _Bucket) -> None:
        """Put the gradients, divided by the world size, in the bucket, and start its
        all-reduce. A gradient that already is the bucket's memory is divided where it is."""
        size = self._size()
        grad = bucket.params[0]._grad
        if bucket.take(None if grad is None else grad._data):
            if size > 1:  # x / 1 is x, bit for bit
                np.divide(bucket.buffer, size, out=bucket.buffer)
        else:
            for p, part in zip(bucket.params, bucket.parts()):
                if p._grad is None:  # unused in this forward (find_unused_parameters)
                    part[...] = 0
                else:
                    np.divide(p._grad._data, size, out=part)
        bucket.work = dist.all_reduce(Tensor._wrap(bucket.buffer), group=self.process_group,
                                      async_op=True)

    def _finish(self) -> None:
        """Wait for every bucket, then give each parameter the average gradient (but for those
        that no rank used, under find_unused_parameters: their ``.grad`` stays as it was)."""
        unused_everywhere = set()
        if self._used_flags is not None:
            flags, work = self._used_flags
            work.wait()
            unused_everywhere = {id(p) for p, count in zip(self._params, flags) if count == 0}
            self._used_flags = None
        for bucket in self._buckets:
            bucket.work.wait()
            for p, average in zip(bucket.params, bucket.parts()):
                if id(p) in unused_everywhere:
                    continue
                if p._grad is not None and bucket.holds(p._grad._data):
                    continue  # averaged where it lies
                if self.gradient_as_bucket_view:
                    p._grad = Tensor._wrap(average)
                elif p._grad is None:
                    p._grad = Tensor._wrap(average.copy())
                else:
                    p._grad._data[...] = average
            bucket.ready, bucket.work = 0, None
        self._syncing = False
        self._next = 0

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, backward only adds gradients up locally; the first backward after it
        averages the sums over the ranks (gradient accumulation)."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous


def _buckets(params: list, cap: int) -> list:
    """Consecutive parameters of one dtype, each bucket up to ``cap`` bytes (the first up to
    1 MiB). A parameter of ``min(cap, 1 MiB)`` bytes or more has a bucket of its own and is
    all-reduced in its own gradient: copying it into a bucket and back would cost more than
    the message its own all-reduce adds."""
    buckets, current, size, limit = [], [], 0, min(_FIRST_BUCKET_BYTES, cap)
    alone = min(_FIRST_BUCKET_BYTES, cap)
    for p in params:
        nbytes = p._data.nbytes
        if nbytes >= alone:
            if current:
                buckets.append(_Bucket(current))
                current, size = [], 0
            buckets.append(_Bucket([p], in_place=True))
            limit = cap
            continue
        if current and (size + nbytes > limit or p._data.dtype != current[0]._data.dtype):
            buckets.append(_Bucket(current))
            current, size, limit = [], 0, cap
        current.append(p)
        size += nbytes
    if current:
        buckets.append(_Bucket(current))
    return buckets


def _leaves_reached(output) -> set:
    """The ids of the leaf tensors whose gradient backward from ``output`` would reach."""
    stack = [t.grad_fn for t in _tensors(output) if t.grad_fn is not None]
    seen, leaves = set(), set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            leaves.add(id(variable))
        stack.extend(target[0] for target in getattr(node, "_targets", ()))
    for t in _tensors(output):
        if t.grad_fn is None and t.requires_grad:
            leaves.add(id(t))
    return leaves


def _tensors(value):
    """The tensors in a module's output (a tensor, or tuples, lists, dicts and dataclasses of
    them)."""
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _tensors(getattr(value, field.name))
