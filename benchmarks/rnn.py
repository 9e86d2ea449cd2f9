"""Recurrent layers, ember and PyTorch side by side: forward + backward of one training step.

    python benchmarks/rnn.py            # the three cases below, 20 repetitions each
    python benchmarks/rnn.py --quick    # 5 repetitions
    python benchmarks/rnn.py --torch-threads 1    # PyTorch on one thread, as ember's products
    python benchmarks/rnn.py --block 1            # strict alternation, step by step (see below)

Cases: a 2-layer LSTM (input 64, hidden 128, batch 32, 50 steps); an LSTMCell stepped by hand
over the same sequence (the loop of time-series examples); an embedding lookup with a small
vocabulary feeding a GRU (a char-level model's first layers). Both frameworks get the same
inputs and weights and run in turns in one process, a block of consecutive steps each
(``--block``, default 5), as a training loop runs them; the first step of each block is not
timed. The table shows the median milliseconds and the ratio PyTorch / ember (above 1: ember
is faster), of wall-clock time and of the process's CPU time.

Why blocks: PyTorch's OpenMP threads keep spinning for a few milliseconds after its step and
take a core from whatever runs next. Alternating single steps (``--block 1``) charges that to
ember: on the idle machine, ember's 2-layer LSTM step on 2 threads took 20.5 ms alone and
27.6 ms right after PyTorch's step (its embedding + GRU step 8.4 and 12.1 ms). A program trains
with one framework, so the steps after the first of a block are the ones it would see.
``EMBER_NO_EXTENSION=1`` measures ember's NumPy code instead of its compiled kernels (which
run the LSTM's and GRU's whole time loops in C).
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SEQ, BATCH, INPUT, HIDDEN, VOCAB = 50, 32, 64, 128, 65


def lstm_case(lib, rng):
    model = lib.nn.LSTM(INPUT, HIDDEN, num_layers=2)
    x = lib.tensor(rng.standard_normal((SEQ, BATCH, INPUT)).astype(np.float32))

    def step():
        output, (h, c) = model(x)
        (output.sum() + h.sum()).backward()
    return model, step


def cell_case(lib, rng):
    model = lib.nn.LSTMCell(INPUT, HIDDEN)
    x = lib.tensor(rng.standard_normal((SEQ, BATCH, INPUT)).astype(np.float32))

    def step():
        h = c = lib.zeros(BATCH, HIDDEN)
        outputs = []
        for t in range(SEQ):
            h, c = model(x[t], (h, c))
            outputs.append(h)
        lib.stack(outputs).sum().backward()
    return model, step


def embedding_gru_case(lib, rng):
    model = lib.nn.ModuleDict({"embed": lib.nn.Embedding(VOCAB, INPUT),
                               "gru": lib.nn.GRU(INPUT, HIDDEN, batch_first=True)})
    tokens = lib.tensor(rng.integers(0, VOCAB, (BATCH, SEQ)))

    def step():
        output, _ = model["gru"](model["embed"](tokens))
        output.sum().backward()
    return model, step


CASES = {"LSTM 2 layers": lstm_case, "LSTMCell loop": cell_case,
         "Embedding + GRU": embedding_gru_case}


def measure(cases: dict, repetitions: int, block: int = 5) -> dict:
    import torch
    if torch.__name__ != "torch":  # `ember run` maps torch to ember: ember would race itself
        sys.exit("run this benchmark with python, not `ember run`: it compares ember with PyTorch")

    import ember
    results = {}
    for name, make in cases.items():
        steps = {}
        for label, lib in (("torch", torch), ("ember", ember)):
            model, step = make(lib, np.random.default_rng(0))
            if label == "ember":  # the same weights in both
                state = steps["torch"][0].state_dict()
                model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in state.items()})
            steps[label] = (model, step)
        times = {"ember": [], "torch": []}
        cpu = {"ember": [], "torch": []}
        rounds = -(-repetitions // max(block - 1, 1))
        for round_ in range(rounds + 1):  # the first round warms up
            for label in ("ember", "torch"):
                for position in range(block):
                    start, start_cpu = time.perf_counter(), time.process_time()
                    steps[label][1]()
                    if round_ and (position or block == 1):
                        times[label].append((time.perf_counter() - start) * 1e3)
                        cpu[label].append((time.process_time() - start_cpu) * 1e3)
        results[name] = {label: statistics.median(values) for label, values in times.items()}
        results[name].update({f"{label} cpu": statistics.median(values)
                              for label, values in cpu.items()})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 repetitions instead of 20")
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="PyTorch's intra-op threads (default: PyTorch's own choice)")
    parser.add_argument("--block", type=int, default=5,
                        help="consecutive steps per framework in a turn, the first untimed "
                             "(default 5; 1: alternate single steps, each timed)")
    args = parser.parse_args()
    if args.torch_threads:
        import torch
        torch.set_num_threads(args.torch_threads)
    results = measure(CASES, 5 if args.quick else 20, args.block)
    from ember import _C
    # With the extension, the recurrent layers' whole time loops run in C.
    print("ember's compiled kernels:", "in use" if _C.kernels is not None else _C.reason)
    print(f"{'case':<18}{'ember ms':>10}{'torch ms':>10}{'torch/ember':>13}"
          f"{'ember CPU':>11}{'torch CPU':>11}{'torch/ember':>13}")
    for name, result in results.items():
        print(f"{name:<18}{result['ember']:>10.2f}{result['torch']:>10.2f}"
              f"{result['torch'] / result['ember']:>13.2f}{result['ember cpu']:>11.2f}"
              f"{result['torch cpu']:>11.2f}{result['torch cpu'] / result['ember cpu']:>13.2f}")


if __name__ == "__main__":
    main()
