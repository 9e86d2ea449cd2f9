"""``ember.distributed``: not implemented yet; present so that programs importing
``torch.distributed`` run in one process.

``is_available()`` and ``is_initialized()`` are False; the calls that would start or use a
process group raise NotImplementedError (a RuntimeError).

Example:
    >>> import ember.distributed as dist
    >>> dist.is_available(), dist.is_initialized()
    (False, False)
"""


def is_available() -> bool:
    """False: ember cannot run a process group yet."""
    return False


def is_initialized() -> bool:
    """False: no process group runs."""
    return False


def _not_implemented(name: str):
    def call(*args, **kwargs):
        raise NotImplementedError(f"ember.distributed is not implemented yet ({name}): ember "
                                  "runs in one process")
    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"Raises NotImplementedError: ember has no process groups yet ({name})."
    return call


# The calls programs make once a process group would exist.
all_gather = _not_implemented("all_gather")
all_reduce = _not_implemented("all_reduce")
barrier = _not_implemented("barrier")
broadcast = _not_implemented("broadcast")
destroy_process_group = _not_implemented("destroy_process_group")
get_rank = _not_implemented("get_rank")
get_world_size = _not_implemented("get_world_size")
init_process_group = _not_implemented("init_process_group")
reduce = _not_implemented("reduce")
reduce_scatter = _not_implemented("reduce_scatter")
