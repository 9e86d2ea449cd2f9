"""ember.distributed and DistributedDataParallel, run as real MPI jobs of 2 processes
(tests/distributed_worker.py is the program each rank runs). Skipped where mpi4py or mpirun
is missing."""

import os
import shutil
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest
from distributed_worker import batches, make_model

import ember
import ember.distributed as dist
from ember.nn.modules.utils import consume_prefix_in_state_dict_if_present
from ember.utils.data.distributed import DistributedSampler

HERE = os.path.dirname(__file__)
MPIRUN = shutil.which("mpirun") or shutil.which("mpirun", path=os.path.dirname(sys.executable))
needs_mpi = pytest.mark.skipif(not dist.is_available() or MPIRUN is None,
                               reason="mpi4py or mpirun is not installed")


def mpirun(mode: str, out, timeout: float = 120, env=None, ranks: int = 2):
    """Run the worker in ``mode`` on ``ranks`` processes; the finished process."""
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(HERE)] + os.environ.get("PYTHONPATH", "").split(os.pathsep)),
        OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", **(env or {}))
    command = [MPIRUN, "-n", str(ranks), "--oversubscribe", sys.executable,
               os.path.join(HERE, "distributed_worker.py"), mode, str(out)]
    return subprocess.run(command, env=environment, capture_output=True, text=True,
                          timeout=timeout)


@needs_mpi
def test_collectives_match_numpy_for_every_dtype_and_op(tmp_path):
    result = mpirun("collectives", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for rank in range(2):
        assert (tmp_path / f"rank{rank}.txt").read_text().startswith("ok")


@needs_mpi
def test_subgroup_ranks_size_checks_and_unused_parameters_as_pytorch(tmp_path):
    result = mpirun("edges", tmp_path, ranks=3)
    assert result.returncode == 0, result.stdout + result.stderr
    for rank in range(3):
        checks = (tmp_path / f"rank{rank}.txt").read_text().split()
        assert checks and all(check == "True" for check in checks), (rank, checks)


def test_a_backend_per_device_type_takes_the_cpu_one():
    from ember.distributed.distributed_c10d import _cpu_backend
    assert _cpu_backend("cpu:gloo,cuda:nccl") == "gloo"
    assert _cpu_backend("cuda:nccl,cpu:gloo") == "gloo"
    assert _cpu_backend("mpi") == "mpi"
    with pytest.raises(ValueError, match="no backend for the cpu"):
        _cpu_backend("cuda:nccl")


def train_in_one_process(model_name: str, accumulate: int = 1):
    """What 2 ranks with batch 4 (times ``accumulate`` micro-batches) compute, in one process
    with the whole batch of 8 (times ``accumulate``)."""
    model, loss_fn = make_model(model_name)
    opt = ember.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for x, y in batches(model_name, 4, 4 * accumulate, 2):
        opt.zero_grad()
        loss_fn(model(ember.tensor(x)), ember.tensor(y)).backward()
        opt.step()
    return {k: v.numpy() for k, v in model.state_dict().items()}


@needs_mpi
@pytest.mark.parametrize("mode, model_name, accumulate", [
    ("mlp", "mlp", 1), ("tutorial", "tutorial", 1), ("accumulate", "mlp", 3),
    ("view", "tutorial", 1), ("view_accumulate", "mlp", 3)])
def test_two_ranks_train_as_one_process_with_their_batches_together(tmp_path, mode, model_name,
                                                                    accumulate):
    result = mpirun(mode, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = train_in_one_process(model_name, accumulate)
    ranks = [dict(np.load(tmp_path / f"rank{r}.npz")) for r in range(2)]
    for key, value in expected.items():
        # the replicas are equal, bit for bit; and equal to one process within the rounding
        # of adding the batch's gradients in another order
        np.testing.assert_array_equal(ranks[0]["module." + key], ranks[1]["module." + key])
        np.testing.assert_allclose(ranks[0]["module." + key], value, rtol=1e-5, atol=1e-6)
    # rank 0's checkpoint loads into a plain model, once the DDP prefix is stripped
    state = ember.load(tmp_path / "checkpoint.pt")
    consume_prefix_in_state_dict_if_present(state, "module.")
    model, _ = make_model(model_name)
    model.load_state_dict(state)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), ranks[0]["module." + key])


@needs_mpi
def test_checkpoint_of_a_ddp_run_loads_into_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    result = mpirun("mlp", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    state = torch.load(tmp_path / "checkpoint.pt")
    torch.nn.modules.utils.consume_prefix_in_state_dict_if_present(state, "module.")
    net = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    net.load_state_dict({k.removeprefix("layers."): v for k, v in state.items()})
    saved = np.load(tmp_path / "rank0.npz")
    np.testing.assert_array_equal(net[0].weight.detach().numpy(), saved["module.layers.0.weight"])


@needs_mpi
@pytest.mark.parametrize("mode", ["raise", "kill"])
def test_a_failing_rank_stops_the_job_and_is_named(tmp_path, mode):
    result = mpirun(mode, tmp_path, timeout=60)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "rank 1" in output
    if mode == "raise":
        assert "rank 1 fails on purpose" in output and "ember.distributed: rank 1 failed" in output


@needs_mpi
def test_a_rank_that_does_not_come_times_out(tmp_path):
    result = mpirun("hang", tmp_path, timeout=60, env={"EMBER_TEST_TIMEOUT": "2"})
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "DistBackendError" in output and "all_reduce on rank 0 timed out after 2 s" in output


@needs_mpi
def test_different_models_on_the_ranks_are_refused_at_construction(tmp_path):
    result = mpirun("mismatch", tmp_path, timeout=60)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "DDP expects same model across all ranks" in output


def test_calls_before_init_process_group_say_so():
    with pytest.raises(ValueError, match="has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="has not been initialized"):
        ember.nn.parallel.DistributedDataParallel(ember.nn.Linear(2, 2))
    assert not dist.is_initialized()


@pytest.mark.parametrize("length, replicas, drop_last, shuffle",
                         [(10, 2, False, False), (11, 2, False, True), (11, 3, True, False),
                          (11, 3, True, True), (2, 4, False, False), (0, 2, False, True)])
def test_distributed_sampler_splits_the_dataset_as_pytorch(length, replicas, drop_last, shuffle):
    torch = pytest.importorskip("torch")
    shares = []
    for rank in range(replicas):
        ours = DistributedSampler(range(length), num_replicas=replicas, rank=rank,
                                  shuffle=shuffle, drop_last=drop_last, seed=3)
        theirs = torch.utils.data.DistributedSampler(range(length), num_replicas=replicas,
                                                     rank=rank, shuffle=shuffle,
                                                     drop_last=drop_last, seed=3)
        assert len(ours) == len(theirs)
        indices = list(ours)
        assert len(indices) == len(ours)
        if not shuffle:  # the permutation is ember's own generator's; the split is PyTorch's
            assert indices == list(theirs)
        shares.append(indices)
    covered = [i for share in shares for i in share]
    if drop_last:
        assert len(set(covered)) == len(covered)  # disjoint
    else:
        assert set(covered) == set(range(length))  # everything, padded by repeats


def test_distributed_sampler_reshuffles_per_epoch_and_agrees_across_ranks():
    a = DistributedSampler(range(20), num_replicas=2, rank=0)
    b = DistributedSampler(range(20), num_replicas=2, rank=1)
    first = list(a) + list(b)
    assert sorted(first) == list(range(20))
    a.set_epoch(1)
    b.set_epoch(1)
    second = list(a) + list(b)
    assert sorted(second) == list(range(20)) and second != first
    with pytest.raises(ValueError, match="Invalid rank"):
        DistributedSampler(range(4), num_replicas=2, rank=2)


def test_consume_prefix_strips_only_the_prefix_as_pytorch():
    torch = pytest.importorskip("torch")
    ours = OrderedDict([("module.a", 1), ("b", 2), ("module.c.module.d", 3)])
    theirs = OrderedDict(ours)
    consume_prefix_in_state_dict_if_present(ours, "module.")
    torch.nn.modules.utils.consume_prefix_in_state_dict_if_present(theirs, "module.")
    assert list(ours.items()) == list(theirs.items())


PROGRAM = """
import os
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP

rank = int(os.environ["RANK"])  # set before init_process_group, as torchrun does
dist.init_process_group(backend="gloo")
assert dist.get_rank() == rank and dist.get_world_size() == int(os.environ["WORLD_SIZE"])
model = DDP(torch.nn.Linear(3, 1))
model(torch.ones(2, 3) * (rank + 1)).sum().backward()
print(f"rank {rank} grad {model.module.weight.grad.tolist()}", flush=True)
dist.destroy_process_group()
"""


@needs_mpi
def test_ember_run_nproc_starts_a_pytorch_program_on_every_rank(tmp_path):
    script = tmp_path / "ddp_program.py"
    script.write_text(PROGRAM)
    environment = dict(os.environ, PYTHONPATH=os.path.dirname(HERE),
                       PATH=os.path.dirname(MPIRUN) + os.pathsep + os.environ.get("PATH", ""))
    result = subprocess.run([sys.executable, "-m", "ember", "run", "--nproc", "2", str(script)],
                            env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    for rank in range(2):  # inputs 1 and 2 per rank, 2 rows each: the average gradient is 3
        assert f"rank {rank} grad [[3.0, 3.0, 3.0]]" in result.stdout


def test_rank_environment_comes_from_the_mpi_launcher():
    from ember.distributed.launch import rank_environment
    environ = {"OMPI_COMM_WORLD_RANK": "3", "OMPI_COMM_WORLD_SIZE": "4",
               "OMPI_COMM_WORLD_LOCAL_RANK": "1", "OMPI_COMM_WORLD_LOCAL_SIZE": "2"}
    rank_environment(environ)
    assert (environ["RANK"], environ["WORLD_SIZE"], environ["LOCAL_RANK"],
            environ["LOCAL_WORLD_SIZE"]) == ("3", "4", "1", "2")
    kept = {"PMI_RANK": "0", "PMI_SIZE": "2", "RANK": "5"}
    rank_environment(kept)  # what the user set stays
    assert kept["RANK"] == "5" and kept["WORLD_SIZE"] == "2" and kept["LOCAL_RANK"] == "0"


@needs_mpi
def test_ember_train_nproc_trains_as_a_job_and_rank_0_writes(tmp_path):
    from ember.vision.datasets import FashionMNIST
    try:
        data = FashionMNIST(train=False).root
    except RuntimeError:
        pytest.skip("Fashion-MNIST not found")
    environment = dict(os.environ, PYTHONPATH=os.path.dirname(HERE),
                       PATH=os.path.dirname(MPIRUN) + os.pathsep + os.environ.get("PATH", ""))
    out = tmp_path / "run"
    command = [sys.executable, "-m", "ember", "train", "--nproc", "2", "--epochs", "1",
               "--limit", "256", "--test-limit", "100", "--batch-size", "32", "--data", data,
               "--no-progress", "--out", str(out)]
    result = subprocess.run(command, env=environment, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("epoch 1/1:") == 1  # rank 0 alone prints
    checkpoint = ember.load(out / "checkpoint.pt")
    model = ember.vision.models.LeNet(num_classes=10)
    model.load_state_dict(checkpoint["model"])  # a plain model's keys: no "module." prefix
    assert checkpoint["epoch"] == 1


@pytest.mark.parametrize("banner, expected", [("mpirun (Open MPI) 5.0.11", True),
                                              ("HYDRA build details:\n    Version: 4.1", False)])
def test_oversubscribe_is_asked_of_open_mpi_only(tmp_path, monkeypatch, banner, expected):
    # MPICH's mpiexec refuses --oversubscribe; a stand-in launcher prints each one's banner.
    from ember.distributed import launch
    fake = tmp_path / "mpirun"
    fake.write_text(f"#!/bin/sh\nif [ \"$1\" = --version ]; then printf '{banner}\\n'; exit 0; fi"
                    "\necho \"$@\" > \"$(dirname \"$0\")/args\"\n")
    fake.chmod(0o755)
    monkeypatch.setattr(launch, "mpirun", lambda: str(fake))
    monkeypatch.setattr(launch.os, "cpu_count", lambda: 1)
    assert launch.launch(2, ["run", "x.py"]) == 0
    assert ("--oversubscribe" in (tmp_path / "args").read_text().split()) is expected
