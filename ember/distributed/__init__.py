"""``ember.distributed``: process groups and collectives on MPI, as ``torch.distributed`` names
them (the code and how it works: ``distributed_c10d.py``).

A job is N processes started together by MPI (``mpirun -n 2 python train.py`` or ``ember run
--nproc 2 train.py``); each calls ``init_process_group()`` and then the collectives, which work
in place on tensors. ``DistributedDataParallel`` (``ember.nn.parallel``) and
``DistributedSampler`` (``ember.utils.data.distributed``) build on them.

Example (run it with ``mpirun -n 2``):
    >>> import ember, ember.distributed as dist
    >>> dist.init_process_group("mpi")                             # doctest: +SKIP
    >>> t = ember.tensor([float(dist.get_rank() + 1)])
    >>> dist.all_reduce(t)                                         # doctest: +SKIP
    >>> t                            # 1 + 2 on both ranks          # doctest: +SKIP
    tensor([3.])
"""

from .distributed_c10d import (
    Backend,
    DistBackendError,
    DistError,
    GroupMember,
    ProcessGroup,
    ReduceOp,
    Work,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    barrier,
    broadcast,
    destroy_process_group,
    gather,
    get_backend,
    get_global_rank,
    get_group_rank,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    init_process_group,
    irecv,
    is_initialized,
    is_mpi_available,
    isend,
    new_group,
    recv,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
    send,
)


def is_available() -> bool:
    """Whether ember can run process groups here: mpi4py (and an MPI library) is installed."""
    return is_mpi_available()


def is_gloo_available() -> bool:
    """Whether ``backend="gloo"`` works: ember runs it on MPI, so where MPI is there."""
    return is_mpi_available()


def is_nccl_available() -> bool:
    """False: ember's GPU collectives (NCCL) are not written yet."""
    return False


def is_torchelastic_launched() -> bool:
    """Whether ``torchrun`` started this process (it sets ``TORCHELASTIC_RUN_ID``)."""
    import os
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None
