"""Where an epoch of ``ember train`` goes: the DataLoader, the step, the reads after it, and the
evaluation, checkpoint and plots that follow each epoch.

    python benchmarks/epoch_profile.py                       # 12,800 images, compiled step
    python benchmarks/epoch_profile.py --limit 60000 --threads 1
    python benchmarks/epoch_profile.py --no-compile --cprofile 25

It builds the run from ``ember/training.py``'s own pieces (the data with its transforms, LeNet,
the optimizer, ``make_train_step``, ``evaluate``, the plots) and times each phase of the epochs
after the first (the first captures the compiled step), in wall-clock and CPU seconds: on a
shared machine the CPU seconds of a phase move less than its wall-clock time. With several
threads, CPU seconds above wall-clock seconds mean the threads worked at once. ``--cprofile N``
adds cProfile's top N functions (by own time) over one epoch's loop.

The ratios against PyTorch come from ``benchmarks/run.py --only epoch`` (the loop) and
``benchmarks/recipe_torch.py --compare`` (the whole recipe).
"""

import argparse
import collections
import cProfile
import os
import pstats
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import ember  # noqa: E402  (after the path: the benchmark runs from a checkout)
from ember import nn, training  # noqa: E402
from ember._parallel import set_cpu_tuning  # noqa: E402
from ember.utils.data import DataLoader  # noqa: E402
from ember.vision.models import LeNet  # noqa: E402


class Clock:
    """Wall-clock and CPU seconds spent in each named phase."""

    def __init__(self) -> None:
        self.wall = collections.Counter()
        self.cpu = collections.Counter()

    def add(self, phase: str, wall: float, cpu: float) -> None:
        self.wall[phase] += wall
        self.cpu[phase] += cpu

    def time(self, phase: str, function, *args):
        """``function(*args)``, its time added to ``phase``."""
        wall, cpu = time.perf_counter(), time.process_time()
        result = function(*args)
        self.add(phase, time.perf_counter() - wall, time.process_time() - cpu)
        return result


def train_loop(loader, step, clock: Clock) -> None:
    """One epoch of ``ember train``'s loop: next batch, step, read the loss and the count."""
    batches = iter(loader)
    while True:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            images, labels = next(batches)
        except StopIteration:
            return
        middle_wall, middle_cpu = time.perf_counter(), time.process_time()
        clock.add("data (DataLoader: sampler, fancy index, transforms)", middle_wall - wall,
                  middle_cpu - cpu)
        loss, right = step(images, labels)
        after_wall, after_cpu = time.perf_counter(), time.process_time()
        clock.add("step (forward, backward, update)", after_wall - middle_wall,
                  after_cpu - middle_cpu)
        loss.item(), int(right.item())
        clock.add("reads (loss.item(), right.item())", time.perf_counter() - after_wall,
                  time.process_time() - after_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=12800, help="training images")
    parser.add_argument("--test-limit", type=int, default=None, help="test images")
    parser.add_argument("--epochs", type=int, default=2, help="epochs timed, after one more")
    parser.add_argument("--threads", type=int, default=None, help="ember.set_num_threads")
    parser.add_argument("--data", default=None, help="folder with the Fashion-MNIST files")
    parser.add_argument("--no-compile", dest="compile", action="store_false")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N",
                        help="also print cProfile's top N functions over one epoch's loop")
    args = parser.parse_args()
    set_cpu_tuning(malloc=True)  # as the ember command does
    if args.threads is not None:
        ember.set_num_threads(args.threads)
    train_set, classes = training.load_data(args.data, True, args.limit)
    test_set, _ = training.load_data(args.data, False, args.test_limit)
    ember.manual_seed(0)
    model = LeNet(num_classes=len(classes))
    optimizer = training.make_optimizer("sgd", model.parameters(), 0.05, 0.9)
    step = training.make_train_step(model, nn.CrossEntropyLoss(), optimizer)
    if args.compile:
        step = ember.compile(step)
    loader = DataLoader(train_set, batch_size=64, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)
    plots = training._plots_available()
    if plots:
        training._pyplot()  # its import, once per run, is not an epoch's
    print(f"{len(train_set)} training and {len(test_set)} test images, batch 64, "
          f"{'compiled' if args.compile else 'eager'} step, {ember.get_num_threads()} threads")

    train_loop(loader, step, Clock())  # the first epoch captures the step
    clock, history = Clock(), []
    out = tempfile.TemporaryDirectory(prefix="epoch_profile_")  # the checkpoint and plots
    for epoch in range(1, args.epochs + 1):
        train_loop(loader, step, clock)
        loss, accuracy, confusion = clock.time("evaluation (test set, batches of 1000)",
                                               training.evaluate, model, test_loader,
                                               len(classes))
        clock.time("checkpoint (ember.save)", ember.save,
                   {"model": model.state_dict(), "optimizer": optimizer.state_dict()},
                   os.path.join(out.name, training.CHECKPOINT))
        if plots:
            # The plots draw the test figures for the training ones too: the same work.
            history.append({"epoch": epoch, "train_loss": loss, "test_loss": loss,
                            "train_accuracy": accuracy, "test_accuracy": accuracy})
            clock.time("plots (curves.png, confusion.png)", training.plot_curves, history,
                       os.path.join(out.name, "curves.png"))
            clock.time("plots (curves.png, confusion.png)", training.plot_confusion, confusion,
                       classes, os.path.join(out.name, "confusion.png"))
    out.cleanup()

    total_wall, total_cpu = sum(clock.wall.values()), sum(clock.cpu.values())
    loop_wall = sum(seconds for phase, seconds in clock.wall.items()
                    if phase.startswith(("data", "step", "reads")))
    print(f"\nper epoch: {total_wall / args.epochs:.2f} s wall, {total_cpu / args.epochs:.2f} s "
          f"CPU; the training loop {len(train_set) * args.epochs / loop_wall:,.0f} images/s")
    print(f"{'phase':<55}{'wall s':>9}{'share':>8}{'CPU s':>9}")
    for phase, seconds in clock.wall.most_common():
        print(f"{phase:<55}{seconds / args.epochs:>9.3f}{100 * seconds / total_wall:>7.1f}%"
              f"{clock.cpu[phase] / args.epochs:>9.3f}")

    if args.cprofile:
        profile = cProfile.Profile()
        profile.runcall(train_loop, loader, step, Clock())
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.cprofile)


if __name__ == "__main__":
    main()
