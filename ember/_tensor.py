"""Tensor: an array (NumPy or CuPy) plus what autograd needs to differentiate through it.

A Tensor holds its values in ``_data``, a NumPy or CuPy array. Operators and methods forward to
the functions in ``ember.ops``; those record the graph. Views and ``detach()`` share their
base's version counter, a one-element list that every in-place op increments, so that backward
can tell when a value it saved has been overwritten (``.data`` gets a counter of its own, as in
PyTorch, so updates through it go unchecked).
"""

import warnings

import numpy as np

from . import _backend, _dtype, _recording, autograd
from ._backend import array_module
from ._size import Size
from .autograd import inplace
from .autograd.function import AccumulateGrad, RemovableHandle
from .autograd.grad_mode import _GradMode


def type_name(item) -> str:
    """PyTorch's legacy type name of a tensor or array, e.g. ``ember.FloatTensor``."""
    data = item._data if isinstance(item, Tensor) else item
    return f"ember.{_dtype.TYPE_NAMES.get(str(data.dtype), 'Float')}Tensor"


def to_arguments(args, kwargs):
    """(device, dtype) from the forms ``to`` accepts: ``to(device)``, ``to(dtype)``,
    ``to(device, dtype)``, ``to(tensor)`` and the keywords ``device`` and ``dtype``; a bool
    (``non_blocking``) is accepted and ignored, as a CPU copy has no use for it."""
    device, dtype = kwargs.get("device"), kwargs.get("dtype")
    for arg in args:
        if isinstance(arg, _dtype.dtype):
            dtype = arg
        elif isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, bool):
            continue
        elif arg is not None:
            device = arg
    return device, dtype


_NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead.")


def _check_index_put_dtype(tensor, key, value) -> None:
    """PyTorch's error for ``x[index] = value`` with index tensors (or lists) and a tensor
    value of another dtype: index_put does not convert. Its exception: a single bool mask with
    a one-element value, which it writes with masked_fill (any dtype)."""
    parts = key if isinstance(key, tuple) else (key,)
    indices = [part for part in parts  # those besides basic indexing (ints select first)
               if not (part is Ellipsis or part is None or isinstance(part, (slice, int)))]
    if len(indices) == 1 and isinstance(indices[0], Tensor) and \
            indices[0]._data.dtype == np.bool_ and value.numel() == 1:
        return
    raise RuntimeError("Index put requires the source and destination dtypes match, got "
                       f"{_dtype.type_name(tensor._data.dtype)} for the destination and "
                       f"{_dtype.type_name(value._data.dtype)} for the source.")


class Tensor:
    """A multi-dimensional array that can record the operations applied to it.

    Example:
        >>> import ember
        >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> y.backward()
        >>> x.grad
        tensor([2., 4.])
    """

    # Named where programs meet it: type(t) prints <class 'ember.Tensor'>, as torch.Tensor's.
    __module__ = "ember"

    # _base: the tensor whose memory a view shares (None unless this is a view), and
    # _view_version: the version at which the view's grad_fn was recorded (views only).
    __slots__ = ("_data", "_requires_grad", "_grad", "grad_fn", "_output_nr", "_version",
                 "_accumulator", "_base", "_view_version", "_retains_grad", "__weakref__")
    __array_priority__ = 1000  # numpy_array * tensor calls Tensor.__rmul__

    def __init__(self, *args, dtype=None, device=None) -> None:
        """A tensor of a size (uninitialized), of data (as floats), or over an array.

        As ``torch.Tensor``: ``Tensor(2, 3)`` and ``Tensor(Size([2, 3]))`` give a size,
        ``Tensor([1, 2])`` gives floats (``ember.tensor`` infers the dtype instead). Unlike
        ``torch.Tensor``, a NumPy or CuPy array is used as it is, without a copy
        (``Parameter`` builds on that).
        """
        numpy_dtype = (dtype or _dtype.get_default_dtype()).numpy
        if all(isinstance(a, int) for a in args) or (len(args) == 1
                                                      and isinstance(args[0], Size)):
            sizes = args[0] if len(args) == 1 and isinstance(args[0], Size) else args
            data = np.empty(tuple(sizes) if args else (0,), dtype=numpy_dtype)
        elif len(args) == 1 and (isinstance(args[0], np.ndarray)
                                 or hasattr(args[0], "__cuda_array_interface__")):
            data = args[0]
        elif len(args) == 1:
            data = args[0]._data if isinstance(args[0], Tensor) else args[0]
            data = array_module(data).array(data, dtype=numpy_dtype)
        else:
            raise TypeError(f"Tensor(): expected sizes (ints) or one sequence of data, got "
                            f"{tuple(type(a).__name__ for a in args)}")
        if device is not None:
            data = _backend.move(data, _backend.device(device))
        self._data = data
        self._requires_grad = False
        self._grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._version = [0]
        self._accumulator = None
        self._base = None
        self._retains_grad = False

    @classmethod
    def _wrap(cls, data, base=None) -> "Tensor":
        """A tensor over ``data``; with ``base``, a view sharing its version counter."""
        tensor = object.__new__(cls)
        if type(data) is not np.ndarray and (isinstance(data, np.generic)
                                             or not hasattr(data, "ndim")):
            data = np.asarray(data)  # NumPy returns scalars, not 0-d arrays, from 0-d operations
        tensor._data = data
        tensor._requires_grad = False
        tensor._grad = None
        tensor.grad_fn = None
        tensor._output_nr = 0
        tensor._accumulator = None
        tensor._retains_grad = False
        if base is None:
            tensor._version = [0]
            tensor._base = None
        else:
            tensor._version = base._version
            tensor._base = base if base._base is None else base._base
            tensor._view_version = base._version[0]
        return tensor

    # ---- autograd -------------------------------------------------------------------------

    @property
    def requires_grad(self) -> bool:
        if not self._requires_grad and self._base is not None \
                and self._view_version != self._version[0] and self._base._requires_grad:
            # The base was written in place with a tensor that requires grad since this view
            # was made: the view's values come from that graph now (PyTorch's view replay).
            inplace.refresh_view(self)
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if not value and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you "
                               "want to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self) -> "Tensor | None":
        """The gradient that backward accumulated here (leaves, and tensors that called
        ``retain_grad()``); reading it on another tensor is almost always a mistake, and warns
        as PyTorch does."""
        if self._grad is None and self.grad_fn is not None and not self._retains_grad:
            warnings.warn(_NON_LEAF_GRAD, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        self._grad = value
        if _recording.recorder is not None:  # ember.compile replays the assignment
            _recording.recorder.set_grad(self, value)

    def _edge(self):
        """(node, output index) that receives this tensor's gradient in backward."""
        if self.grad_fn is not None:
            if self._base is not None and self._view_version != self._version[0]:
                inplace.refresh_view(self)
            return self.grad_fn, self._output_nr
        if self._accumulator is None:
            self._accumulator = AccumulateGrad(self)
        return self._accumulator, 0

    def register_hook(self, hook):
        """Call ``hook(grad)`` whenever backward computes this tensor's gradient; a hook that
        returns a tensor replaces the gradient. Returns a handle whose ``remove()`` undoes it.

        Example:
            >>> import ember
            >>> x = ember.ones(2, requires_grad=True)
            >>> handle = x.register_hook(lambda grad: grad * 10)
            >>> (x * 3).sum().backward(); x.grad
            tensor([30., 30.])
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        node, index = self._edge()
        if node.tensor_hooks is None:
            node.tensor_hooks = {}
        hooks = node.tensor_hooks.setdefault(index, {})
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` each time backward has added this leaf's gradient to its
        ``.grad`` (what ``DistributedDataParallel`` starts its all-reduces from). Returns a
        handle whose ``remove()`` undoes it.

        Example:
            >>> import ember
            >>> w = ember.ones(2, requires_grad=True)
            >>> handle = w.register_post_accumulate_grad_hook(lambda t: print(t.grad))
            >>> (w * 3).sum().backward()
            tensor([3., 3.])
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        node = self._edge()[0]
        if node.post_hooks is None:
            node.post_hooks = {}
        handle = RemovableHandle(node.post_hooks)
        node.post_hooks[handle.id] = hook
        return handle

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if self.grad_fn is None:
            return
        if self.grad_fn._retained is None:
            self.grad_fn._retained = {}
        self.grad_fn._retained[self._output_nr] = self
        self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def _accumulate_retained(self, grad) -> None:
        if self.grad is None:
            self.grad = Tensor._wrap(grad.copy())
        else:
            self.grad = Tensor._wrap(self.grad._data + grad)

    def backward(self, gradient=None, retain_graph=None, create_graph=False,
                 inputs=None) -> None:
        """Compute the gradient of this tensor with respect to the graph's leaves.

        Args:
            gradient: d(something)/d(self), required unless self holds one element.
            retain_graph: keep the saved values so backward can run through the graph again.

        Example:
            >>> import ember
            >>> w = ember.ones(3, requires_grad=True)
            >>> (w * 2).backward(ember.ones(3))
            >>> w.grad
            tensor([2., 2., 2.])
        """
        autograd.backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph,
                          inputs=inputs)

    def detach(self) -> "Tensor":
        """A tensor sharing this one's memory and version counter, cut off from the graph.

        In-place changes through either are seen by autograd (the counter is shared), but the
        result is no view for autograd: changing it never changes this tensor's graph.
        """
        detached = Tensor._wrap(self._data)
        detached._version = self._version
        return detached

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> "Tensor":
        """This tensor's values as a tensor outside the graph (shares memory).

        Unlike ``detach()``, the result has its own version counter, as in PyTorch: changes
        through ``.data`` are hidden from autograd (what optimizers written the old way rely on).
        """
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value: "Tensor") -> None:
        self._data = value._data
        if _recording.recorder is not None:  # a new array: ember.compile cannot replay that
            _recording.recorder.unsupported("assigns a tensor's .data")

    @property
    def _grad_recorded(self) -> bool:
        return _GradMode.enabled and self._requires_grad

    # ---- metadata ---------------------------------------------------------------------

    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype.from_numpy(self._data.dtype)

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: "int | None" = None):
        """The shape as a ``Size``, or the length of one dimension."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[shape.normalize_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    ndim = property(dim)

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def device(self) -> _backend.device:
        return _backend.device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    @property
    def is_sparse(self) -> bool:
        """False: ember's tensors are all dense (strided)."""
        return False

    def is_contiguous(self, memory_format=None) -> bool:
        if memory_format is None:
            return bool(self._data.flags.c_contiguous)
        return shape.is_contiguous(self, memory_format)

    def stride(self, dim: "int | None" = None):
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[dim]

    def data_ptr(self) -> int:
        return _backend.address(self._data)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    # Hashed by identity, as torch.Tensor is: object's own hash, so that a dict keyed by
    # tensors (an optimizer's state, looked up for every parameter at every step) runs no
    # Python code to hash one.
    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with "
                               + ("no values" if self._data.size == 0 else
                                  "more than one value") + " is ambiguous")
        return bool(self._data.reshape(()))

    def __int__(self) -> int:
        return int(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __repr__(self) -> str:
        return _tensor_str.tensor_repr(self)

    # ---- conversion ---------------------------------------------------------------------

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return _backend.move(self._data, _backend.CPU).tolist()

    def numpy(self, force: bool = False) -> np.ndarray:
        """The values as a NumPy array sharing this tensor's memory (CPU tensors)."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if array_module(self._data) is not np:
            if not force:
                raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use "
                                "Tensor.cpu() to copy the tensor to host memory first.")
            return _backend.move(self._data, _backend.CPU)
        return self._data

    def __array__(self, dtype=None, copy=None):
        array = self.numpy(force=True)
        return array if dtype is None else array.astype(dtype)

    def to(self, *args, **kwargs) -> "Tensor":
        """A copy on another device and/or of another dtype (self when nothing changes).

        Example:
            >>> import ember
            >>> ember.ones(2).to(ember.float64).dtype
            ember.float64
        """
        target_device, target_dtype = to_arguments(args, kwargs)
        result = self
        if target_device is not None:
            result = elementwise.to_device(result, _backend.device(target_device))
        if target_dtype is not None and target_dtype.numpy != result._data.dtype:
            result = elementwise.to_dtype(result, target_dtype)
        if kwargs.get("copy") and result is self:
            result = self.clone()
        return result

    def type(self, dtype=None):
        """The legacy type name (``ember.FloatTensor``), or a copy converted to ``dtype``: a
        dtype, a legacy type (``ember.LongTensor``) or its name (``"torch.LongTensor"``)."""
        if dtype is None:
            return type_name(self)
        return self.to(_tensor_types.dtype_of_type(dtype))

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self, device=None) -> "Tensor":
        return self.to(_backend.device("cuda", device) if isinstance(device, int) or device is None
                       else device)

    def float(self) -> "Tensor":
        return self.to(_dtype.float32)

    def double(self) -> "Tensor":
        return self.to(_dtype.float64)

    def half(self) -> "Tensor":
        return self.to(_dtype.float16)

    def long(self) -> "Tensor":
        return self.to(_dtype.int64)

    def int(self) -> "Tensor":
        return self.to(_dtype.int32)

    def bool(self) -> "Tensor":
        return self.to(_dtype.bool)

    def new_tensor(self, data, dtype=None, requires_grad=False) -> "Tensor":
        return creation.tensor(data, dtype=dtype or self.dtype, device=self.device,
                               requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None) -> "Tensor":
        return creation.zeros(*size, dtype=dtype or self.dtype, device=self.device)

    def new_ones(self, *size, dtype=None) -> "Tensor":
        return creation.ones(*size, dtype=dtype or self.dtype, device=self.device)

    def new_full(self, size, fill_value, dtype=None) -> "Tensor":
        return creation.full(size, fill_value, dtype=dtype or self.dtype, device=self.device)

    def new_empty(self, *size, dtype=None) -> "Tensor":
        return creation.empty(*size, dtype=dtype or self.dtype, device=self.device)

    # ---- in-place operations ------------------------------------------------------------

    def _inplace(self, function, *args) -> "Tensor":
        """``function(self, *args)`` written into self (see ``autograd.inplace``)."""
        return inplace.apply(self, function, *args)

    def add_(self, other, *, alpha=1) -> "Tensor":
        return self._inplace(lambda s, o: elementwise.add(s, o, alpha=alpha), other)

    def sub_(self, other, *, alpha=1) -> "Tensor":
        return self._inplace(lambda s, o: elementwise.sub(s, o, alpha=alpha), other)

    def mul_(self, other) -> "Tensor":
        return self._inplace(elementwise.mul, other)

    def div_(self, other, *, rounding_mode=None) -> "Tensor":
        return self._inplace(lambda s, o: elementwise.div(s, o, rounding_mode=rounding_mode),
                             other)

    def pow_(self, exponent) -> "Tensor":
        return self._inplace(elementwise.pow, exponent)

    def clamp_(self, min=None, max=None) -> "Tensor":
        return self._inplace(elementwise.clamp, min, max)

    clip_ = clamp_

    def addcmul_(self, tensor1, tensor2, *, value=1) -> "Tensor":
        return self._inplace(lambda s, a, b: elementwise.addcmul(s, a, b, value=value),
                             tensor1, tensor2)

    def addcdiv_(self, tensor1, tensor2, *, value=1) -> "Tensor":
        return self._inplace(lambda s, a, b: elementwise.addcdiv(s, a, b, value=value),
                             tensor1, tensor2)

    def addcmul(self, tensor1, tensor2, *, value=1):
        return elementwise.addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return elementwise.addcdiv(self, tensor1, tensor2, value=value)

    def lerp_(self, end, weight) -> "Tensor":
        return self._inplace(elementwise.lerp, end, weight)

    def zero_(self) -> "Tensor":
        return self.fill_(0)

    def square_(self) -> "Tensor":
        return self._inplace(elementwise.pow, 2)

    def fill_(self, value) -> "Tensor":
        return self._inplace(elementwise.fill, value)

    def copy_(self, src) -> "Tensor":
        if not isinstance(src, Tensor):
            raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not "
                            f"{type(src).__name__}")
        if src._data.shape != self._data.shape:
            elementwise.check_broadcast(self._data.shape, src._data.shape)
            shape = np.broadcast_shapes(self._data.shape, src._data.shape)
            if shape != self._data.shape:
                raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match "
                                   f"the broadcast shape {list(shape)}")
        return self._inplace(elementwise.copy_from, src.to(self.device))

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> "Tensor":
        return self._inplace(elementwise.fill, random.uniform_array(self, a, b))

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> "Tensor":
        return self._inplace(elementwise.fill, random.normal_array(self, mean, std))

    def masked_fill_(self, mask, value) -> "Tensor":
        return self._inplace(indexing.masked_fill, mask, value)

    def __setitem__(self, key, value) -> None:
        # The elements written must not overlap each other or the value; with index tensors
        # (x[mask] = x) the value may not share memory at all, with slices it may be the very
        # view written (x[1:3] += 1 assigns x[1:3] to itself).
        # A 0-d tensor written through basic indexing is read once and filled in, as PyTorch's
        # x[::2] = x[1] has it, so it may be any element of the tensor written.
        advanced = indexing.is_advanced(key)
        if advanced and isinstance(value, Tensor) and value._data.dtype != self._data.dtype:
            _check_index_put_dtype(self, key, value)
        filled = (not advanced and isinstance(value, Tensor) and value.dim() == 0
                  and value.device.type == "cpu")
        inplace.check_writable(self._data if advanced else indexing.region(self._data, key),
                               () if filled else (value,), same_ok=not advanced)
        if _GradMode.enabled and (self._requires_grad or (isinstance(value, Tensor)
                                                          and value._requires_grad)):
            if self._requires_grad and self.grad_fn is None and indexing.writes_view(key):
                # PyTorch writes x[0] = v through the view x[0], and names the view.
                raise RuntimeError("a view of a leaf Variable that requires grad is being used "
                                   "in an in-place operation.")
            inplace.apply(self, indexing.index_put, key, value, operands=())
        else:  # nothing to record: write in place, without the out-of-place copy
            indexing.assign(self, key, value)

    # ---- operators ------------------------------------------------------------------------

    def __add__(self, other):
        return elementwise.add(self, other)

    def __radd__(self, other):
        return elementwise.add(self, other)

    def __sub__(self, other):
        return elementwise.sub(self, other)

    def __rsub__(self, other):
        return elementwise.rsub(self, other)

    def __mul__(self, other):
        return elementwise.mul(self, other)

    def __rmul__(self, other):
        return elementwise.mul(self, other)

    def __truediv__(self, other):
        return elementwise.div(self, other)

    def __rtruediv__(self, other):
        return elementwise.mul(elementwise.reciprocal(self), other)

    def __floordiv__(self, other):
        return elementwise.floor_divide(self, other)

    def __mod__(self, other):
        return elementwise.remainder(self, other)

    def __pow__(self, exponent):
        return elementwise.pow(self, exponent)

    def __rpow__(self, base):
        return elementwise.rpow(self, base)

    def __neg__(self):
        return elementwise.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return elementwise.abs(self)

    def __matmul__(self, other):
        return linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return linalg.matmul(other, self)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __lshift__(self, other):
        return elementwise.bitwise_left_shift(self, other)

    def __rlshift__(self, other):
        return elementwise.bitwise_left_shift(other, self)

    def __rshift__(self, other):
        return elementwise.bitwise_right_shift(self, other)

    def __rrshift__(self, other):
        return elementwise.bitwise_right_shift(other, self)

    def __ilshift__(self, other):
        return self.bitwise_left_shift_(other)

    def __irshift__(self, other):
        return self.bitwise_right_shift_(other)

    def __iand__(self, other):
        return self.bitwise_and_(other)

    def __ior__(self, other):
        return self.bitwise_or_(other)

    def __ixor__(self, other):
        return self.bitwise_xor_(other)

    def __imod__(self, other):
        return self.remainder_(other)

    def __ifloordiv__(self, other):
        return self.floor_divide_(other)

    def __ipow__(self, exponent):
        return self.pow_(exponent)

    def __eq__(self, other):
        if not isinstance(other, _COMPARABLE):  # None, strings...: plain Python equality
            return NotImplemented
        return elementwise.eq(self, other)

    def __ne__(self, other):
        if not isinstance(other, _COMPARABLE):
            return NotImplemented
        return elementwise.ne(self, other)

    def __lt__(self, other):
        return elementwise.lt(self, other)

    def __le__(self, other):
        return elementwise.le(self, other)

    def __gt__(self, other):
        return elementwise.gt(self, other)

    def __ge__(self, other):
        return elementwise.ge(self, other)

    def __and__(self, other):
        return elementwise.bitwise_and(self, other)

    __rand__ = __and__

    def __or__(self, other):
        return elementwise.bitwise_or(self, other)

    __ror__ = __or__

    def __xor__(self, other):
        return elementwise.bitwise_xor(self, other)

    __rxor__ = __xor__

    def __invert__(self):
        if self._data.dtype.kind not in "biu":
            raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                            "tensors")
        return elementwise.bitwise_not(self)

    def bitwise_and(self, other):
        return elementwise.bitwise_and(self, other)

    def bitwise_or(self, other):
        return elementwise.bitwise_or(self, other)

    def bitwise_xor(self, other):
        return elementwise.bitwise_xor(self, other)

    def bitwise_not(self):
        return elementwise.bitwise_not(self)

    def __getitem__(self, key):
        return indexing.getitem(self, key)

    # ---- methods that forward to ops ---------------------------------------------------------

    def add(self, other, *, alpha=1):
        return elementwise.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return elementwise.sub(self, other, alpha=alpha)

    def mul(self, other):
        return elementwise.mul(self, other)

    def div(self, other, *, rounding_mode=None):
        return elementwise.div(self, other, rounding_mode=rounding_mode)

    def pow(self, exponent):
        return elementwise.pow(self, exponent)

    def neg(self):
        return elementwise.neg(self)

    def exp(self):
        return elementwise.exp(self)

    def log(self):
        return elementwise.log(self)

    def log1p(self):
        return elementwise.log1p(self)

    def log2(self):
        return elementwise.log2(self)

    def log10(self):
        return elementwise.log10(self)

    def expm1(self):
        return elementwise.expm1(self)

    def sqrt(self):
        return elementwise.sqrt(self)

    def rsqrt(self):
        return elementwise.rsqrt(self)

    def reciprocal(self):
        return elementwise.reciprocal(self)

    def abs(self):
        return elementwise.abs(self)

    def sin(self):
        return elementwise.sin(self)

    def cos(self):
        return elementwise.cos(self)

    def tanh(self):
        return elementwise.tanh(self)

    def sigmoid(self):
        return elementwise.sigmoid(self)

    def relu(self):
        return elementwise.relu(self)

    def sign(self):
        return elementwise.sign(self)

    def floor(self):
        return elementwise.floor(self)

    def ceil(self):
        return elementwise.ceil(self)

    def round(self, *, decimals=None):
        return elementwise.round(self, decimals=decimals)

    def square(self):
        return elementwise.pow(self, 2)

    def clamp(self, min=None, max=None):
        return elementwise.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return elementwise.maximum(self, other)

    def minimum(self, other):
        return elementwise.minimum(self, other)

    def lerp(self, end, weight):
        return elementwise.lerp(self, end, weight)

    def eq(self, other):
        return elementwise.eq(self, other)

    def ne(self, other):
        return elementwise.ne(self, other)

    def lt(self, other):
        return elementwise.lt(self, other)

    def le(self, other):
        return elementwise.le(self, other)

    def gt(self, other):
        return elementwise.gt(self, other)

    def ge(self, other):
        return elementwise.ge(self, other)

    def equal(self, other) -> bool:
        return self.shape == other.shape and bool((self._data == other._data).all())

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
        xp = array_module(self._data)
        return bool(xp.allclose(self._data, other._data, rtol=rtol, atol=atol,
                                equal_nan=equal_nan))

    def isnan(self):
        return elementwise.isnan(self)

    def isfinite(self):
        return elementwise.isfinite(self)

    def isinf(self):
        return elementwise.isinf(self)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return elementwise.isclose(self, other, rtol, atol, equal_nan)

    def remainder(self, other):
        return elementwise.remainder(self, other)

    def floor_divide(self, other):
        return elementwise.floor_divide(self, other)

    def logical_not(self):
        return elementwise.logical_not(self)

    def where(self, condition, other):
        return elementwise.where(condition, self, other)

    def masked_fill(self, mask, value):
        return indexing.masked_fill(self, mask, value)

    def sum(self, dim=None, keepdim=False, dtype=None):
        return reduction.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False, dtype=None):
        return reduction.mean(self, dim, keepdim, dtype=dtype)

    def prod(self, dim=None, keepdim=False):
        return reduction.prod(self, dim, keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False, *, correction=None):
        return reduction.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=True, keepdim=False, *, correction=None):
        return reduction.std(self, dim, unbiased, keepdim, correction=correction)

    def max(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return elementwise.maximum(self, dim)
        return reduction.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return elementwise.minimum(self, dim)
        return reduction.min(self, dim, keepdim)

    def amax(self, dim=(), keepdim=False):
        return reduction.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return reduction.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return reduction.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return reduction.argmin(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return reduction.all(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return reduction.any(self, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return reduction.logsumexp(self, dim, keepdim)

    def cumsum(self, dim, *, dtype=None):
        return scan.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim, *, dtype=None):
        return scan.cumprod(self, dim, dtype=dtype)

    def nansum(self, dim=None, keepdim=False, *, dtype=None):
        return reduction.nansum(self, dim, keepdim, dtype=dtype)

    def nanmean(self, dim=None, keepdim=False, *, dtype=None):
        return reduction.nanmean(self, dim, keepdim, dtype=dtype)

    def aminmax(self, *, dim=None, keepdim=False):
        return reduction.aminmax(self, dim=dim, keepdim=keepdim)

    def cummax(self, dim):
        return scan.cummax(self, dim)

    def cummin(self, dim):
        return scan.cummin(self, dim)

    def logcumsumexp(self, dim):
        return scan.logcumsumexp(self, dim)

    def sort(self, dim=-1, descending=False, *, stable=None):
        return sorting.sort(self, dim, descending, stable=stable)

    def argsort(self, dim=-1, descending=False, *, stable=False):
        return sorting.argsort(self, dim, descending, stable=stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return sorting.topk(self, k, dim, largest, sorted)

    def kthvalue(self, k, dim=-1, keepdim=False):
        return sorting.kthvalue(self, k, dim, keepdim)

    def median(self, dim=None, keepdim=False):
        return sorting.median(self, dim, keepdim)

    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return sorting.quantile(self, q, dim, keepdim, interpolation=interpolation)

    def nonzero(self, *, as_tuple=False):
        return sorting.nonzero(self, as_tuple=as_tuple)

    def count_nonzero(self, dim=None):
        return reduction.count_nonzero(self, dim)

    def bincount(self, weights=None, minlength=0):
        return reduction.bincount(self, weights, minlength)

    def histc(self, bins=100, min=0, max=0):
        return reduction.histc(self, bins, min, max)

    def isin(self, test_elements, *, assume_unique=False, invert=False):
        return sorting.isin(self, test_elements, assume_unique=assume_unique, invert=invert)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return sorting.unique(self, sorted, return_inverse, return_counts, dim)

    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        return sorting.unique_consecutive(self, return_inverse, return_counts, dim)

    def softmax(self, dim):
        return functional.softmax(self, dim)

    def log_softmax(self, dim):
        return functional.log_softmax(self, dim)

    def norm(self, p=2, dim=None, keepdim=False):
        return reduction.norm(self, p, dim, keepdim)

    def view(self, *shape_args):
        if len(shape_args) == 1 and isinstance(shape_args[0], _dtype.dtype):
            return Tensor._wrap(self._data.view(shape_args[0].numpy), self)
        return shape.view(self, *shape_args)

    def view_as(self, other):
        return shape.view(self, other.shape)

    def reshape(self, *shape_args):
        return shape.reshape(self, shape.sizes_from(shape_args))

    def reshape_as(self, other):
        return shape.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return shape.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return shape.unflatten(self, dim, sizes)

    def squeeze(self, dim=None):
        return shape.squeeze(self, dim)

    def unsqueeze(self, dim):
        return shape.unsqueeze(self, dim)

    def permute(self, *dims):
        return shape.permute(self, shape.sizes_from(dims))

    def transpose(self, dim0, dim1):
        return shape.transpose(self, dim0, dim1)

    def t(self):
        return shape.t(self)

    @property
    def T(self):
        return shape.permute(self, tuple(reversed(range(self._data.ndim))))

    @property
    def mT(self):
        return shape.transpose(self, -2, -1)

    def contiguous(self, memory_format=None):
        return shape.contiguous(self, memory_format)

    def clone(self, *, memory_format=None):
        return shape.clone(self, memory_format=memory_format)

    def expand(self, *sizes):
        return shape.expand(self, *sizes)

    def expand_as(self, other):
        return shape.expand(self, other.shape)

    def repeat(self, *sizes):
        return shape.repeat(self, *sizes)

    def flip(self, *dims):
        return shape.flip(self, shape.sizes_from(dims))

    def roll(self, shifts, dims=None):
        return shape.roll(self, shifts, dims)

    def split(self, split_size, dim=0):
        return shape.split(self, split_size, dim)

    def chunk(self, chunks, dim=0):
        return shape.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return shape.unbind(self, dim)

    def gather(self, dim, index):
        return indexing.gather(self, dim, index)

    def index_select(self, dim, index):
        return indexing.index_select(self, dim, index)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        return creation.multinomial(self, num_samples, replacement, generator=generator)

    def masked_scatter(self, mask, source):
        return indexing.masked_scatter(self, mask, source)

    def masked_scatter_(self, mask, source) -> "Tensor":
        return self._inplace(indexing.masked_scatter, mask, source)

    def index_put(self, indices, values, accumulate=False):
        return indexing.index_put_values(self, indices, values, accumulate)

    def index_put_(self, indices, values, accumulate=False) -> "Tensor":
        if not isinstance(indices, (tuple, list)):  # PyTorch's error names the method
            indexing.index_put_values(self, indices, values, name="index_put_")
        return self._inplace(lambda s, v: indexing.index_put_values(s, indices, v, accumulate),
                             values)

    def index_copy(self, dim, index, source):
        return indexing.index_copy(self, dim, index, source)

    def index_copy_(self, dim, index, source) -> "Tensor":
        return self._inplace(lambda s, v: indexing.index_copy(s, dim, index, v), source)

    def masked_select(self, mask):
        return indexing.masked_select(self, mask)

    def select(self, dim, index):
        return indexing.select(self, dim, index)

    def take_along_dim(self, indices, dim=None):
        return indexing.take_along_dim(self, indices, dim)

    def ravel(self):
        return shape.ravel(self)

    def broadcast_to(self, size):
        return shape.broadcast_to(self, size)

    def fliplr(self):
        return shape.fliplr(self)

    def rot90(self, k=1, dims=(0, 1)):
        return shape.rot90(self, k, dims)

    def tensor_split(self, indices_or_sections, dim=0):
        return shape.tensor_split(self, indices_or_sections, dim)

    def flipud(self):
        return shape.flipud(self)

    def argwhere(self):
        return sorting.argwhere(self)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return linalg.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1) -> "Tensor":
        _check_inplace_size(self, (batch1.shape[0], batch1.shape[1], batch2.shape[-1]))
        return self._inplace(lambda s, a, b: linalg.baddbmm(s, a, b, beta=beta, alpha=alpha),
                             batch1, batch2)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        return linalg.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addmv_(self, mat, vec, *, beta=1, alpha=1) -> "Tensor":
        _check_inplace_size(self, (mat.shape[0],))
        return self._inplace(lambda s, a, b: linalg.addmv(s, a, b, beta=beta, alpha=alpha),
                             mat, vec)

    def cumsum_(self, dim, *, dtype=None) -> "Tensor":
        return self._inplace(lambda s: scan.cumsum(s, dim, dtype=dtype))

    def cumprod_(self, dim, *, dtype=None) -> "Tensor":
        return self._inplace(lambda s: scan.cumprod(s, dim, dtype=dtype))

    def type_as(self, other) -> "Tensor":
        return self.to(other.dtype)

    def is_nonzero(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with "
                               + ("no values" if self._data.size == 0 else
                                  "more than one value") + " is ambiguous")
        return bool(self._data.reshape(()))

    def is_same_size(self, other) -> bool:
        return self._data.shape == other._data.shape

    def fill_diagonal_(self, fill_value, wrap=False) -> "Tensor":
        return self._inplace(lambda s: shape.fill_diagonal(s, fill_value, wrap))

    def bernoulli(self, p=None, *, generator=None):
        return creation.bernoulli(self, p, generator=generator)

    def bernoulli_(self, p=0.5, *, generator=None) -> "Tensor":
        return self._inplace(elementwise.fill, creation.bernoulli_values(self, p, generator))

    def random_(self, from_=0, to=None, *, generator=None) -> "Tensor":
        return self._inplace(elementwise.fill,
                             creation.integer_values(self, from_, to, generator))

    def exponential_(self, lambd=1.0, *, generator=None) -> "Tensor":
        return self._inplace(elementwise.fill,
                             creation.exponential_values(self, lambd, generator))

    def movedim(self, source, destination):
        return shape.movedim(self, source, destination)

    moveaxis = movedim

    def swapaxes(self, axis0, axis1):
        return shape.transpose(self, axis0, axis1)

    swapdims = swapaxes

    def narrow(self, dim, start, length):
        return indexing.narrow(self, dim, start, length)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return indexing.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None) -> "Tensor":
        return self._inplace(lambda s, i, v: indexing.scatter(s, dim, i, v, value=value,
                                                              reduce=reduce), index, src)

    def scatter_add(self, dim, index, src):
        return indexing.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim, index, src) -> "Tensor":
        return self._inplace(lambda s, i, v: indexing.scatter_add(s, dim, i, v), index, src)

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        return indexing.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True) -> "Tensor":
        return self._inplace(lambda s, i, v: indexing.scatter_reduce(
            s, dim, i, v, reduce, include_self=include_self), index, src)

    def index_add(self, dim, index, source, *, alpha=1):
        return indexing.index_add(self, dim, index, source, alpha=alpha)

    def index_add_(self, dim, index, source, *, alpha=1) -> "Tensor":
        return self._inplace(lambda s, i, v: indexing.index_add(s, dim, i, v, alpha=alpha),
                             index, source)

    def index_fill(self, dim, index, value):
        return indexing.index_fill(self, dim, index, value)

    def index_fill_(self, dim, index, value) -> "Tensor":
        return self._inplace(lambda s, i, v: indexing.index_fill(s, dim, i, v), index, value)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return shape.diagonal(self, offset, dim1, dim2)

    def diag(self, diagonal=0):
        return shape.diag(self, diagonal)

    def trace(self):
        return shape.trace(self)

    def outer(self, vec2):
        return shape.outer(self, vec2)

    def tile(self, *dims):
        return shape.tile(self, shape.sizes_from(dims))

    def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
        return shape.repeat_interleave(self, repeats, dim, output_size=output_size)

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        return shape.diff(self, n, dim, prepend, append)

    def tril(self, diagonal=0):
        return shape.tril(self, diagonal)

    def triu(self, diagonal=0):
        return shape.triu(self, diagonal)

    def tril_(self, diagonal=0) -> "Tensor":
        return self._inplace(shape.tril, diagonal)

    def triu_(self, diagonal=0) -> "Tensor":
        return self._inplace(shape.triu, diagonal)

    def unsqueeze_(self, dim) -> "Tensor":
        return shape.unsqueeze_(self, dim)

    def squeeze_(self, dim=None) -> "Tensor":
        return shape.squeeze_(self, dim)

    def t_(self) -> "Tensor":
        return shape.t_(self)

    def transpose_(self, dim0, dim1) -> "Tensor":
        return shape.transpose_(self, dim0, dim1)

    def matmul(self, other):
        return linalg.matmul(self, other)

    def mm(self, other):
        return linalg.mm(self, other)

    def bmm(self, other):
        return linalg.bmm(self, other)

    def dot(self, other):
        return linalg.dot(self, other)

    def inverse(self):
        return linalg.inv(self)

    def kron(self, other):
        return linalg.kron(self, other)

    def matrix_power(self, n):
        return linalg.matrix_power(self, n)

    def det(self):
        return linalg.det(self)

    def svd(self, some=True, compute_uv=True):
        return linalg.legacy_svd(self, some, compute_uv)

    def logdet(self):
        return linalg.logdet(self)

    def cross(self, other, dim=None):
        return linalg.torch_cross(self, other, dim)


def _check_inplace_size(tensor, size) -> None:
    """PyTorch's error for an in-place product (``baddbmm_``, ``addmv_``) into a tensor of
    another shape, which it does not broadcast."""
    if tuple(tensor.shape) != tuple(size):
        raise RuntimeError(f"Bad in-place call: input tensor size {list(tensor.shape)} and "
                           f"output tensor size {list(size)} should match")


# Elementwise ops whose Tensor methods only forward to the function of the same name in
# ember.ops.elementwise: ``t.name(*args)``, and ``t.name_(*args)`` written in place.
_ELEMENTWISE_METHODS = (
    "acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
    "asin", "asinh", "atan", "atan2", "atanh", "bitwise_left_shift", "bitwise_right_shift",
    "clamp_max", "clamp_min", "cosh", "deg2rad", "erf", "erfc", "erfinv", "exp2", "fix", "fmod",
    "frac", "hypot", "logaddexp", "logical_and", "logical_or", "logical_xor", "logit",
    "nan_to_num", "rad2deg", "sgn", "sinc", "sinh", "tan", "true_divide", "trunc", "xlogy")
_ELEMENTWISE_INPLACE = _ELEMENTWISE_METHODS + (
    "abs", "bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor", "ceil", "cos", "eq", "exp",
    "expm1", "floor", "floor_divide", "ge", "gt", "le", "log", "log10", "log1p", "log2",
    "logical_not", "lt", "ne", "neg", "reciprocal", "relu", "remainder", "round", "rsqrt",
    "sigmoid", "sign", "sin", "sqrt", "tanh")
_NOT_INPLACE = ("logaddexp",)  # PyTorch has no logaddexp_


def _elementwise_method(name: str):
    def method(self, *args, **kwargs):
        return getattr(elementwise, name)(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    return method


def _elementwise_inplace(name: str):
    def method(self, *args, **kwargs):
        own_node = elementwise.INPLACE_FUNCTIONS.get(name)
        function = own_node.apply if own_node else getattr(elementwise, name)
        return self._inplace(lambda tensor, *operands: function(tensor, *operands, **kwargs),
                             *args)
    method.__name__ = method.__qualname__ = name + "_"
    return method


for _name in _ELEMENTWISE_METHODS:
    setattr(Tensor, _name, _elementwise_method(_name))
for _name in _ELEMENTWISE_INPLACE:
    if _name not in _NOT_INPLACE:
        setattr(Tensor, _name + "_", _elementwise_inplace(_name))
del _name


# What ``tensor == other`` compares elementwise; anything else (None, a string) is unequal.
_COMPARABLE = (Tensor, int, float, bool, complex, np.ndarray, np.generic)


# The ops come last: each op module imports Tensor at its top, which works because Tensor is
# defined by now; the methods above look these modules up only when they are called.
from . import _tensor_str, _tensor_types, random
from .nn import functional
from .ops import creation, elementwise, indexing, linalg, reduction, scan, shape, sorting
