"""One rank of the programs tests/test_distributed.py starts with mpirun: ``python
distributed_worker.py MODE OUT``. Each mode checks what it can on the rank and writes its
results under the folder OUT for the test to compare."""

import contextlib
import os
import signal
import sys
import time
from datetime import timedelta

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

import ember  # noqa: E402
import ember.distributed as dist  # noqa: E402
from ember import nn  # noqa: E402
from ember.nn.parallel import DistributedDataParallel as DDP  # noqa: E402

DTYPES = [np.float32, np.float64, np.float16, np.int32, np.int64, np.int8, np.uint8, np.bool_,
          np.complex64]
OPS = {"SUM": np.add.reduce, "PRODUCT": np.multiply.reduce, "MIN": np.minimum.reduce,
       "MAX": np.maximum.reduce, "BAND": np.bitwise_and.reduce, "BOR": np.bitwise_or.reduce,
       "BXOR": np.bitwise_xor.reduce}


def values(rank: int, dtype) -> np.ndarray:
    """Each rank's distinct, exactly representable input."""
    rng = np.random.default_rng(rank)
    if dtype == np.bool_:
        return rng.integers(0, 2, 7).astype(bool)
    if np.dtype(dtype).kind == "c":
        return (rng.integers(-3, 4, 7) + 1j * rng.integers(-3, 4, 7)).astype(dtype)
    low = 0 if np.dtype(dtype).kind == "u" else -4
    return rng.integers(low, 5, 7).astype(dtype)


def reference(op: str, dtype, size: int) -> np.ndarray:
    stacked = np.stack([values(r, dtype) for r in range(size)])
    if dtype == np.bool_:
        ints = stacked.astype(np.uint8)
        return OPS[op](ints, axis=0) != 0 if op != "AVG" else None
    if op == "AVG":
        total = stacked.sum(axis=0)
        if np.dtype(dtype).kind in "iu":
            return (np.sign(total) * (np.abs(total) // size)).astype(dtype)
        return (total / dtype(size)).astype(dtype)
    return OPS[op](stacked, axis=0).astype(dtype)


def collectives(out: str) -> None:
    rank, size = dist.get_rank(), dist.get_world_size()
    checked = 0
    for dtype in DTYPES:
        kind = np.dtype(dtype).kind
        for op in ["SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"]:
            bitwise = op in ("BAND", "BOR", "BXOR")
            if (bitwise and kind in "fc") or (op in ("MIN", "MAX") and kind == "c") \
                    or (op == "AVG" and kind == "b"):
                tensor = ember.tensor(values(rank, dtype))
                try:
                    dist.all_reduce(tensor, op=getattr(dist.ReduceOp, op))
                except RuntimeError:
                    checked += 1
                    continue
                if op == "AVG" and kind == "b":
                    continue  # bool's average: not defined by PyTorch either; not checked
                raise AssertionError(f"{op} on {dtype} should raise")
            tensor = ember.tensor(values(rank, dtype))
            work = dist.all_reduce(tensor, op=getattr(dist.ReduceOp, op), async_op=True)
            work.wait()
            assert work.is_completed()
            np.testing.assert_array_equal(tensor.numpy(), reference(op, dtype, size),
                                          err_msg=f"{op} {dtype}")
            checked += 1
        # broadcast, all_gather, reduce_scatter, gather, scatter on this dtype
        tensor = ember.tensor(values(rank, dtype))
        dist.broadcast(tensor, src=size - 1)
        np.testing.assert_array_equal(tensor.numpy(), values(size - 1, dtype))
        gathered = [ember.zeros_like(ember.tensor(values(0, dtype))) for _ in range(size)]
        dist.all_gather(gathered, ember.tensor(values(rank, dtype)))
        for r, item in enumerate(gathered):
            np.testing.assert_array_equal(item.numpy(), values(r, dtype))
        if kind != "b":
            output = ember.tensor(values(0, dtype))
            parts = [ember.tensor(values(rank, dtype) + dtype(r)) for r in range(size)]
            dist.reduce_scatter(output, parts)
            expected = sum(values(r, dtype) + dtype(rank) for r in range(size)).astype(dtype)
            np.testing.assert_array_equal(output.numpy(), expected)
        checked += 3
    # a view and a non-contiguous tensor are written in place
    base = ember.arange(12.0).reshape(3, 4)
    column = base[:, 1]
    dist.all_reduce(column)
    np.testing.assert_array_equal(base.numpy()[:, 1], np.arange(12.0).reshape(3, 4)[:, 1] * size)
    # point to point, and reduce to one rank
    if size >= 2:
        if rank == 0:
            dist.send(ember.tensor([42.0, 43.0]), dst=1, tag=3)
        elif rank == 1:
            received = ember.zeros(2)
            assert dist.recv(received, tag=3) == 0
            np.testing.assert_array_equal(received.numpy(), [42.0, 43.0])
    total = ember.tensor([float(rank + 1)])
    dist.reduce(total, dst=0)
    assert total.item() == (size * (size + 1) / 2 if rank == 0 else rank + 1)
    dist.barrier()
    with open(os.path.join(out, f"rank{rank}.txt"), "w") as f:
        f.write(f"ok {checked}")


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, x):
        return self.layers(x)


def batches(model_name: str, steps: int, per_rank: int, size: int):
    """The same global batches for every run: step k's batch of size * per_rank."""
    rng = np.random.default_rng(7)
    for _ in range(steps):
        if model_name == "mlp":
            x = rng.standard_normal((size * per_rank, 10)).astype(np.float32)
            y = rng.standard_normal((size * per_rank, 1)).astype(np.float32)
        else:
            x = rng.standard_normal((size * per_rank, 1, 32, 32)).astype(np.float32)
            y = rng.integers(0, 10, size * per_rank)
        yield x, y


def make_model(model_name: str):
    ember.manual_seed(0)
    if model_name == "mlp":
        return MLP(), nn.MSELoss()
    from nets import tutorial_net
    return tutorial_net(ember), nn.CrossEntropyLoss()


def train(out: str, model_name: str, accumulate: int = 1, view: bool = False) -> None:
    """K steps of SGD with momentum; with ``accumulate`` > 1, each step is that many
    micro-batches, all but the last under no_sync. With ``view``, the gradients are views of
    DDP's buckets (``gradient_as_bucket_view``), zeroed in place on even steps and dropped
    (``set_to_none``) on odd ones; after each step's backward every gradient must lie in its
    bucket, and a gradient zeroed in place must not have moved."""
    rank, size = dist.get_rank(), dist.get_world_size()
    model, loss_fn = make_model(model_name)
    if rank == 1:  # a different start on rank 1: DDP must broadcast rank 0's
        with ember.no_grad():
            for p in model.parameters():
                p.add_(1.0)
    # several buckets even for these small models
    ddp = DDP(model, bucket_cap_mb=0.01, gradient_as_bucket_view=view)
    opt = ember.optim.SGD(ddp.parameters(), lr=0.05, momentum=0.9)
    per_rank = 4
    places = []
    for step, (x, y) in enumerate(batches(model_name, 4, per_rank * accumulate, size)):
        opt.zero_grad(set_to_none=not view or step % 2 == 1)
        for micro in range(accumulate):
            start = (micro * size + rank) * per_rank
            xb = ember.tensor(x[start:start + per_rank])
            yb = ember.tensor(y[start:start + per_rank])
            context = ddp.no_sync() if micro < accumulate - 1 else contextlib.nullcontext()
            with context:
                loss = loss_fn(ddp(xb), yb) / accumulate
                loss.backward()
        if view:
            now = [p.grad.data_ptr() for p in ddp.parameters()]
            if step % 2 == 0 and places and now != places:
                raise AssertionError("a gradient zeroed in place moved")
            if not all(ddp._bucket_of[id(p)].holds(p.grad._data) for p in ddp.parameters()):
                raise AssertionError("a gradient is not a view of its bucket")
            places = now
        opt.step()
    np.savez(os.path.join(out, f"rank{rank}.npz"),
             **{k: v.numpy() for k, v in ddp.state_dict().items()})
    if rank == 0:
        ember.save(ddp.state_dict(), os.path.join(out, "checkpoint.pt"))


def edges(out: str) -> None:
    """Found by review: global ranks in subgroups, size checks, DDP's unused parameters.
    Run on 3 ranks."""
    rank, size = dist.get_rank(), dist.get_world_size()
    # ember asked Open MPI for Rabenseifner's non-blocking all-reduce before MPI started
    results = [os.environ.get("OMPI_MCA_coll_libnbc_iallreduce_algorithm") == "3"]
    # src/dst name ranks of the default group, whatever the group (as PyTorch reads them)
    group = dist.new_group([1, 2])
    if rank in (1, 2):
        assert dist.get_process_group_ranks(group) == [1, 2]
        assert dist.get_group_rank(group, 2) == 1 and dist.get_global_rank(group, 0) == 1
        tensor = ember.tensor([rank * 10.0])
        dist.broadcast(tensor, src=1, group=group)
        results.append(tensor.item() == 10.0)
        tensor = ember.tensor([rank * 10.0])
        dist.broadcast(tensor, group_src=1, group=group)  # the same, by its rank in the group
        results.append(tensor.item() == 20.0)
        tensor = ember.tensor([rank * 10.0])
        dist.reduce(tensor, dst=2, group=group)
        results.append(tensor.item() == (30.0 if rank == 2 else 10.0))
        if rank == 2:
            dist.send(ember.tensor([5.0]), group_dst=0, group=group)
        else:
            received = ember.zeros(1)
            results.append(dist.recv(received, group=group) == 2 and received.item() == 5.0)
        with contextlib.suppress(ValueError):
            dist.broadcast(ember.zeros(1), src=0, group=group)  # rank 0 is not in the group
            results.append(False)
    # all_gather: every rank must pass one shape
    try:
        dist.all_gather([ember.zeros(rank + 2) for _ in range(size)], ember.ones(rank + 2))
        results.append(False)
    except RuntimeError as error:
        results.append("invalid tensor size" in str(error))
    # gather and scatter check the root's list against the tensor before sending anything
    if rank == 0:
        for call in (lambda: dist.gather(ember.ones(1), [ember.zeros(3)] * size),
                     lambda: dist.scatter(ember.zeros(3), [ember.ones(2)] * size)):
            try:
                call()
                results.append(False)
            except RuntimeError as error:
                results.append("invalid tensor size at index 0" in str(error))
    # DDP, find_unused_parameters: a dataclass output is looked into; a parameter that no rank
    # uses keeps grad None; a forward without backward leaves nothing behind
    import dataclasses

    @dataclasses.dataclass
    class Out:
        value: ember.Tensor

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Linear(3, 1, bias=False), nn.Linear(3, 1, bias=False)

        def forward(self, x):
            return Out(self.used(x))

    ember.manual_seed(0)
    ddp = DDP(Net(), find_unused_parameters=True)
    x = ember.ones(1, 3) * (rank + 1)
    ddp(x)  # no backward
    ddp(x).value.sum().backward()
    results.append(ddp.module.used.weight.grad.tolist() == [[2.0, 2.0, 2.0]])  # mean of 1..3
    results.append(ddp.module.unused.weight.grad is None)

    class Aux(nn.Module):  # a parameter reaches the loss around the output
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(3, 1), nn.Linear(3, 1)

        def forward(self, x):
            self.extra = self.b(x)
            return self.a(x)

    ddp = DDP(Aux(), find_unused_parameters=True)
    try:
        (ddp(x) + ddp.module.extra).sum().backward()
        results.append(False)
    except RuntimeError as error:
        results.append("marked as ready twice" in str(error))
    with open(os.path.join(out, f"rank{rank}.txt"), "w") as f:
        f.write(" ".join(map(str, results)))


def main() -> None:
    mode, out = sys.argv[1], sys.argv[2]
    timeout = timedelta(seconds=float(os.environ.get("EMBER_TEST_TIMEOUT", "60")))
    dist.init_process_group("mpi", timeout=timeout)
    rank = dist.get_rank()
    if mode == "collectives":
        collectives(out)
    elif mode == "edges":
        edges(out)
    elif mode in ("mlp", "tutorial"):
        train(out, mode)
    elif mode == "accumulate":
        train(out, "mlp", accumulate=3)
    elif mode == "view":
        train(out, "tutorial", view=True)
    elif mode == "view_accumulate":
        train(out, "mlp", accumulate=3, view=True)
    elif mode == "raise":
        if rank == 1:
            raise ValueError("rank 1 fails on purpose")
        dist.all_reduce(ember.ones(3))
    elif mode == "kill":
        if rank == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        dist.all_reduce(ember.ones(3))
    elif mode == "hang":
        if rank == 1:
            time.sleep(30)
        dist.all_reduce(ember.ones(3))
    elif mode == "mismatch":
        model = MLP() if rank == 0 else nn.Sequential(nn.Linear(10, 32), nn.Linear(32, 2))
        DDP(model)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
