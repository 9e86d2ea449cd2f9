"""Module: the base class of every layer and model.

A Module keeps what it owns in three dictionaries: ``_parameters`` (learnable ``Parameter``s),
``_buffers`` (tensors that are state but not learned, such as BatchNorm's running mean) and
``_modules`` (child modules); ``__setattr__`` files each assigned value into the right one.

The three dictionaries are the single source of truth, as in PyTorch: a registered value is
not an instance attribute, so ordinary attribute lookup misses it and ``__getattr__`` reads it
from its dictionary. What is put into a dictionary directly (``module._parameters["weight"] =
p``) is what ``module.weight`` returns.
"""

import itertools
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

from ... import _dtype, _recording
from ..._tensor import Tensor, to_arguments, type_name
from ...autograd.function import RemovableHandle
from ...autograd.grad_mode import no_grad
from ..parameter import Parameter


def _typename(value) -> str:
    """How error messages name the type of ``value``: ``ember.FloatTensor``, ``int``, ..."""
    if isinstance(value, Tensor):
        return type_name(value)
    cls = value if isinstance(value, type) else type(value)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _addindent(text: str, num_spaces: int) -> str:
    """Indent every line of ``text`` but the first (which follows a ``(name): `` prefix)."""
    first, *rest = text.split("\n")
    if not rest:
        return text
    padding = " " * num_spaces
    return "\n".join([first] + [padding + line for line in rest])


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it did not find, and those it did not use."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class Module:
    """Base class of all layers and models: subclass it and write ``forward``.

    Parameters, buffers and submodules assigned as attributes in ``__init__`` are registered, so
    that ``parameters()``, ``state_dict()``, ``to()``, ``train()`` and the printed form reach them.

    Example:
        >>> import ember
        >>> from ember import nn
        >>> class Net(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = nn.Linear(4, 2)
        ...     def forward(self, x):
        ...         return self.fc(x).relu()
        >>> net = Net()
        >>> net
        Net(
          (fc): Linear(in_features=4, out_features=2, bias=True)
        )
        >>> net(ember.ones(3, 4)).shape
        ember.Size([3, 2])
        >>> [name for name, _ in net.named_parameters()]
        ['fc.weight', 'fc.bias']
    """

    training: bool

    def __init__(self) -> None:
        # Written to __dict__ directly: __setattr__ itself reads these dictionaries.
        self.__dict__.update(
            training=True,
            _parameters={},
            _buffers={},
            _non_persistent_buffers_set=set(),
            _modules={},
            _forward_pre_hooks=OrderedDict(),  # id -> (hook, with_kwargs)
            _forward_hooks=OrderedDict(),  # id -> (hook, with_kwargs, always_call)
        )

    def forward(self, *args, **kwargs):
        """The computation of this module; every subclass defines it."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        # The common case, no hooks, is one dictionary test away from forward.
        if self._forward_pre_hooks or self._forward_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        """``__call__`` with hooks: pre-hooks, forward, forward hooks; always-call ones on error."""
        output = None
        called = set()  # ids of the always-call hooks that ran before an exception
        try:
            args, kwargs = self._run_pre_hooks(args, kwargs)
            output = self.forward(*args, **kwargs)
            for hook_id, (hook, with_kwargs, always_call) in list(self._forward_hooks.items()):
                if always_call:
                    called.add(hook_id)
                result = self._run_forward_hook(hook, with_kwargs, args, kwargs, output)
                if result is not None:
                    output = result
        except Exception:
            for hook_id, (hook, with_kwargs, always_call) in list(self._forward_hooks.items()):
                if always_call and hook_id not in called:
                    self._run_forward_hook(hook, with_kwargs, args, kwargs, output)
            raise
        return output

    def _run_pre_hooks(self, args: tuple, kwargs: dict) -> "tuple[tuple, dict]":
        """The forward pre-hooks in order; each may replace the arguments."""
        for hook, with_kwargs in list(self._forward_pre_hooks.values()):
            if with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {result}.")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        return args, kwargs

    def _run_forward_hook(self, hook, with_kwargs: bool, args: tuple, kwargs: dict, output):
        if with_kwargs:
            return hook(self, args, kwargs, output)
        return hook(self, args, output)

    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before each forward; a non-None result replaces args.

        With ``with_kwargs=True`` the hook is ``hook(module, args, kwargs)`` and may return a
        ``(args, kwargs)`` pair. ``prepend=True`` runs it before the hooks already registered.

        Example:
            >>> import ember
            >>> layer = ember.nn.Identity()
            >>> handle = layer.register_forward_pre_hook(lambda module, args: (args[0] * 2,))
            >>> layer(ember.ones(2))
            tensor([2., 2.])
            >>> handle.remove()
        """
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = (hook, with_kwargs)
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each forward; non-None replaces output.

        With ``with_kwargs=True`` the hook is ``hook(module, args, kwargs, output)``. With
        ``always_call=True`` it also runs, with output None, when forward raises.

        Example:
            >>> import ember
            >>> layer = ember.nn.Linear(3, 2)
            >>> shapes = []
            >>> handle = layer.register_forward_hook(lambda m, args, out: shapes.append(out.shape))
            >>> _ = layer(ember.ones(4, 3))
            >>> shapes
            [ember.Size([4, 2])]
        """
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = (hook, with_kwargs, always_call)
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    # ---- registration -----------------------------------------------------------------------

    def _check_new_name(self, kind: str, name, registry: dict) -> None:
        """The checks every registered name passes; ``kind`` is "parameter", "buffer", ..."""
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            detail = ", got: " + name if kind == "module" else ""
            raise KeyError(f"{kind} name can't contain \".\"{detail}")
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: "Parameter | None") -> None:
        """Add a parameter (or None, for an optional one that is absent) under ``name``.

        Example:
            >>> import ember
            >>> layer = ember.nn.Module()
            >>> layer.register_parameter("scale", ember.nn.Parameter(ember.ones(1)))
            >>> layer.register_parameter("bias", None)
            >>> list(layer.state_dict())
            ['scale']
        """
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_new_name("parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            "(ember.nn.Parameter or None required)")
        self._register(self._parameters, name, param)

    def register_buffer(self, name: str, tensor: "Tensor | None",
                        persistent: bool = True) -> None:
        """Add a tensor that is state but not learned; ``persistent=False`` keeps it out of
        ``state_dict``.

        Example:
            >>> import ember
            >>> layer = ember.nn.Module()
            >>> layer.register_buffer("running_mean", ember.zeros(3))
            >>> list(layer.state_dict())
            ['running_mean']
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_new_name("buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(ember Tensor or None required)")
        self._register(self._buffers, name, tensor)
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Add a child module under ``name`` (what attribute assignment does).

        Example:
            >>> import ember
            >>> block = ember.nn.Module()
            >>> block.add_module("act", ember.nn.ReLU())
            >>> block
            Module(
              (act): ReLU()
            )
        """
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        self._check_new_name("module", name, self._modules)
        self._register(self._modules, name, module)

    register_module = add_module

    def _register(self, registry: dict, name: str, value) -> None:
        """Store ``value`` in ``registry``; a plain attribute of that name goes away."""
        registry[name] = value
        self.__dict__.pop(name, None)

    def _unregister(self, name: str) -> None:
        """Remove ``name`` from every registry and from the instance ``__dict__``."""
        state = self.__dict__
        for registry in (state["_parameters"], state["_buffers"], state["_modules"]):
            registry.pop(name, None)
        state["_non_persistent_buffers_set"].discard(name)
        state.pop(name, None)

    def __setattr__(self, name: str, value) -> None:
        state = self.__dict__
        parameters = state.get("_parameters")
        modules = state.get("_modules")
        buffers = state.get("_buffers")
        if isinstance(value, Parameter):
            if parameters is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            if name not in parameters:  # a replaced parameter keeps its place in the order
                self._unregister(name)
            self.register_parameter(name, value)
        elif parameters is not None and name in parameters:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(ember.nn.Parameter or None expected)")
            self._register(parameters, name, None)
        elif isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            if name not in modules:
                self._unregister(name)
            self._register(modules, name, value)
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                "(ember.nn.Module or None expected)")
            self._register(modules, name, None)
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                "(ember.Tensor or None expected)")
            self._register(buffers, name, value)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        # Python calls this when ordinary lookup fails: for every registered name.
        state = self.__dict__
        parameters = state.get("_parameters")
        if parameters is not None and name in parameters:
            return parameters[name]
        modules = state.get("_modules")
        if modules is not None and name in modules:
            return modules[name]
        buffers = state.get("_buffers")
        if buffers is not None and name in buffers:
            return buffers[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if name in self._parameters or name in self._buffers or name in self._modules:
            self._unregister(name)
        else:
            object.__delattr__(self, name)

    def __dir__(self) -> list:
        keys = itertools.chain(dir(type(self)), self.__dict__, self._parameters, self._modules,
                               self._buffers)
        # Containers name their children "0", "1", ...: not identifiers, so not listed.
        return sorted({key for key in keys if not key[0].isdigit()})

    # ---- traversal -----------------------------------------------------------------------------

    def _named_members(self, get_members, prefix: str = "", recurse: bool = True,
                       remove_duplicate: bool = True):
        """(dotted name, value) of each non-None member; a shared one once unless told."""
        seen = set()
        if recurse:
            modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            modules = [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in get_members(module):
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield (module_prefix + "." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):
        """Yield (name, parameter) pairs, names dotted like ``"conv1.weight"``.

        Example:
            >>> import ember
            >>> [(n, tuple(p.shape)) for n, p in ember.nn.Linear(3, 2).named_parameters()]
            [('weight', (2, 3)), ('bias', (2,))]
        """
        return self._named_members(lambda module: module._parameters.items(), prefix, recurse,
                                   remove_duplicate)

    def parameters(self, recurse: bool = True):
        """Yield every parameter of this module (and, with ``recurse``, its descendants').

        Example:
            >>> import ember
            >>> sum(p.numel() for p in ember.nn.Linear(3, 2).parameters())
            8
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True):
        """Yield (name, buffer) pairs, names dotted like ``"bn.running_mean"``.

        Example:
            >>> import ember
            >>> [name for name, _ in ember.nn.BatchNorm1d(3).named_buffers()]
            ['running_mean', 'running_var', 'num_batches_tracked']
        """
        return self._named_members(lambda module: module._buffers.items(), prefix, recurse,
                                   remove_duplicate)

    def buffers(self, recurse: bool = True):
        """Yield every buffer of this module (and, with ``recurse``, its descendants').

        Example:
            >>> import ember
            >>> len(list(ember.nn.BatchNorm1d(3).buffers()))
            3
        """
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def named_children(self):
        """Yield (name, module) for each direct child, a shared one once.

        Example:
            >>> import ember
            >>> [name for name, _ in ember.nn.Sequential(ember.nn.ReLU()).named_children()]
            ['0']
        """
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        """Yield each direct child module.

        Example:
            >>> import ember
            >>> list(ember.nn.Sequential(ember.nn.ReLU()).children())
            [ReLU()]
        """
        for _, module in self.named_children():
            yield module

    def named_modules(self, memo: "set | None" = None, prefix: str = "",
                      remove_duplicate: bool = True):
        """Yield (name, module) for this module and all descendants, depth first; self is "".

        Example:
            >>> import ember
            >>> net = ember.nn.Sequential(ember.nn.Linear(2, 2), ember.nn.ReLU())
            >>> [name for name, _ in net.named_modules()]
            ['', '0', '1']
        """
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            child_prefix = prefix + "." + name if prefix else name
            yield from module.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self):
        """Yield this module and all its descendants.

        Example:
            >>> import ember
            >>> len(list(ember.nn.Sequential(ember.nn.ReLU(), ember.nn.Tanh()).modules()))
            3
        """
        for _, module in self.named_modules():
            yield module

    def get_submodule(self, target: str) -> "Module":
        """The descendant named by a dotted path such as ``"features.0"``; "" is self.

        Example:
            >>> import ember
            >>> net = ember.nn.Sequential(ember.nn.Sequential(ember.nn.ReLU()))
            >>> net.get_submodule("0.0")
            ReLU()
        """
        module = self
        if target == "":
            return module
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter named by a dotted path such as ``"fc1.weight"``.

        Example:
            >>> import ember
            >>> ember.nn.Sequential(ember.nn.Linear(3, 2)).get_parameter("0.bias").shape
            ember.Size([2])
        """
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        param = getattr(module, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer named by a dotted path such as ``"bn.running_var"``.

        Example:
            >>> import ember
            >>> ember.nn.Sequential(ember.nn.BatchNorm1d(2)).get_buffer("0.running_var")
            tensor([1., 1.])
        """
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return module._buffers[name]

    # ---- modes and gradients -------------------------------------------------------------------

    def train(self, mode: bool = True) -> "Module":
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) here and below.

        Example:
            >>> import ember
            >>> net = ember.nn.Sequential(ember.nn.Dropout())
            >>> net.eval()[0].training
            False
        """
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        # ember.compile replays it as one call
        if _recording.recorder is not None and _recording.here():
            return _recording.recorder.set_mode(Module.train, self, mode)
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> "Module":
        """Set evaluation mode: ``train(False)``.

        Example:
            >>> import ember
            >>> ember.nn.Dropout().eval().training
            False
        """
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Set ``requires_grad`` of every parameter, e.g. to freeze a pretrained part.

        Example:
            >>> import ember
            >>> layer = ember.nn.Linear(2, 2).requires_grad_(False)
            >>> layer.weight.requires_grad
            False
        """
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None, or to zeros in place.

        Example:
            >>> import ember
            >>> layer = ember.nn.Linear(2, 1)
            >>> layer(ember.ones(1, 2)).sum().backward()
            >>> layer.zero_grad()
            >>> layer.weight.grad is None
            True
        """
        # ember.compile replays it as one call
        if _recording.recorder is not None and _recording.here():
            return _recording.recorder.call(Module.zero_grad, self, set_to_none)
        for param in self.parameters():
            grad = param._grad  # parameters are leaves: no non-leaf warning to check for
            if grad is None:
                continue
            if set_to_none:
                param._grad = None
            else:
                grad.detach_()
                grad.zero_()

    # ---- state_dict ----------------------------------------------------------------------------

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        """Put this module's own parameters and persistent buffers into ``destination``."""
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()

    def state_dict(self, *, destination=None, prefix: str = "", keep_vars: bool = False):
        """Every parameter and persistent buffer by dotted name, e.g. ``"conv1.weight"``.

        The values are detached tensors that share memory with the module's, so the dictionary
        follows later training unless it is copied (``ember.save`` writes it out).

        Example:
            >>> import ember
            >>> net = ember.nn.Sequential(ember.nn.Linear(3, 2), ember.nn.BatchNorm1d(2))
            >>> list(net.state_dict())  # doctest: +NORMALIZE_WHITESPACE
            ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var',
             '1.num_batches_tracked']
        """
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        return destination

    def _load_from_state_dict(self, state_dict: Mapping, prefix: str, local_metadata: dict,
                              strict: bool, missing_keys: list, unexpected_keys: list,
                              error_msgs: list) -> None:
        """Copy this module's own entries from ``state_dict``, recording what went wrong.

        Subclasses override it to accept older layouts of their state. The signature is
        PyTorch's; ``local_metadata`` carries only ``"assign_to_params_buffers"``.
        """
        assign = local_metadata.get("assign_to_params_buffers", False)
        local_state = {name: value for name, value in self._parameters.items()
                       if value is not None}
        local_state.update((name, value) for name, value in self._buffers.items()
                           if value is not None and name not in self._non_persistent_buffers_set)
        for name, current in local_state.items():
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                error_msgs.append(f'While copying the parameter named "{key}", expected '
                                  "ember.Tensor or Tensor-like object from checkpoint but "
                                  f"received {type(value)}")
                continue
            if value.shape != current.shape:
                error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{value.shape} from checkpoint, the shape in current model "
                                  f"is {current.shape}.")
                continue
            try:
                with no_grad():
                    if assign:
                        self._assign_loaded(name, current, value)
                    else:
                        current.copy_(value)
            except Exception as error:
                error_msgs.append(f'While copying the parameter named "{key}", whose dimensions '
                                  f"in the model are {current.shape} and whose dimensions in the "
                                  f"checkpoint are {value.shape}, an exception occurred : "
                                  f"{error.args}.")
        if strict:
            for key in state_dict:
                if not key.startswith(prefix):
                    continue
                head, dot, _ = key[len(prefix):].partition(".")
                # A dotted key belongs to a child, which checks the rest of it.
                known = head in self._modules if dot else head in local_state
                if not known:
                    unexpected_keys.append(key)

    def _assign_loaded(self, name: str, current: Tensor, value: Tensor) -> None:
        """``load_state_dict(assign=True)``: take the checkpoint's tensor itself."""
        if isinstance(current, Parameter):
            if not isinstance(value, Parameter):
                value = Parameter(value, requires_grad=current.requires_grad)
            self._register(self._parameters, name, value)
        else:
            self._register(self._buffers, name, value)

    def load_state_dict(self, state_dict: Mapping, strict: bool = True,
                        assign: bool = False) -> _IncompatibleKeys:
        """Copy parameters and buffers from ``state_dict`` into this module, in place.

        Args:
            state_dict: names to tensors, as ``state_dict()`` returns them.
            strict: raise RuntimeError for keys missing from ``state_dict`` or not used.
            assign: make the checkpoint's tensors the module's own instead of copying them.

        Returns:
            ``(missing_keys, unexpected_keys)``. Shape mismatches always raise RuntimeError.

        Example:
            >>> import ember
            >>> a, b = ember.nn.Linear(3, 2), ember.nn.Linear(3, 2)
            >>> b.load_state_dict(a.state_dict())
            <All keys matched successfully>
            >>> bool((a.weight == b.weight).all())
            True
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing_keys: list = []
        unexpected_keys: list = []
        error_msgs: list = []
        metadata = {"assign_to_params_buffers": assign}

        def load(module: Module, prefix: str) -> None:
            # Unexpected keys are always collected, so that strict=False can return them.
            module._load_from_state_dict(state_dict, prefix, metadata, True, missing_keys,
                                         unexpected_keys, error_msgs)
            for name, child in module._modules.items():
                if child is not None:
                    load(child, prefix + name + ".")

        load(self, "")
        if strict:
            if unexpected_keys:
                error_msgs.insert(0, "Unexpected key(s) in state_dict: "
                                  + ", ".join(f'"{key}"' for key in unexpected_keys) + ". ")
            if missing_keys:
                error_msgs.insert(0, "Missing key(s) in state_dict: "
                                  + ", ".join(f'"{key}"' for key in missing_keys) + ". ")
        if error_msgs:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(error_msgs))
        return _IncompatibleKeys(missing_keys, unexpected_keys)

    # ---- conversion --------------------------------------------------------------------------

    def _apply(self, convert) -> "Module":
        """Replace every parameter's, gradient's and buffer's values by ``convert(tensor)``.

        Parameters keep their identity (only their data changes), so an optimizer built on
        them before the conversion keeps updating the same objects.
        """
        for module in self.children():
            module._apply(convert)
        with no_grad():
            for param in self._parameters.values():
                if param is None:
                    continue
                param.data = convert(param)
                if param.grad is not None:
                    param.grad.data = convert(param.grad)
            for name, buffer in list(self._buffers.items()):
                if buffer is not None:
                    self._register(self._buffers, name, convert(buffer))
        return self

    def apply(self, fn) -> "Module":
        """Call ``fn`` on every descendant and then on self, e.g. for custom initialisation.

        Example:
            >>> import ember
            >>> def init_weights(module):
            ...     if isinstance(module, ember.nn.Linear):
            ...         ember.nn.init.zeros_(module.weight)
            >>> net = ember.nn.Sequential(ember.nn.Linear(2, 2)).apply(init_weights)
            >>> net[0].weight.abs().sum().item()
            0.0
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs) -> "Module":
        """Move parameters and buffers to a device and/or convert floating ones to a dtype.

        Accepts ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)`` and the
        keywords ``device``, ``dtype`` and ``non_blocking`` (accepted, ignored).

        Example:
            >>> import ember
            >>> layer = ember.nn.Linear(2, 2).to(ember.float64)
            >>> layer.weight.dtype
            ember.float64
        """
        device, dtype = to_arguments(args, kwargs)
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError("nn.Module.to only accepts floating point or complex dtypes, but "
                            f"got desired dtype={dtype}")

        def convert(tensor: Tensor) -> Tensor:
            if tensor.is_floating_point() or tensor._data.dtype.kind == "c":
                return tensor.to(device=device, dtype=dtype)
            return tensor.to(device=device)

        return self._apply(convert)

    def cpu(self) -> "Module":
        """Move every parameter and buffer to the CPU."""
        return self._apply(lambda tensor: tensor.cpu())

    def cuda(self, device=None) -> "Module":
        """Move every parameter and buffer to a GPU (the current one when ``device`` is None)."""
        return self._apply(lambda tensor: tensor.cuda(device))

    def _cast_floating(self, dtype) -> "Module":
        return self._apply(
            lambda tensor: tensor.to(dtype) if tensor.is_floating_point() else tensor)

    def float(self) -> "Module":
        """Convert floating-point parameters and buffers to float32."""
        return self._cast_floating(_dtype.float32)

    def double(self) -> "Module":
        """Convert floating-point parameters and buffers to float64."""
        return self._cast_floating(_dtype.float64)

    def half(self) -> "Module":
        """Convert floating-point parameters and buffers to float16."""
        return self._cast_floating(_dtype.float16)

    # ---- printing ------------------------------------------------------------------------------

    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The constructor arguments shown inside the parentheses of ``repr``; override it."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2)
                       for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"

