"""A small GPT trained side by side in ember and PyTorch: milliseconds per step and the ratio.

    python benchmarks/gpt.py                 # 4 layers, 4 heads, 128 features, 64 tokens, 12
    python benchmarks/gpt.py --steps 50      # more steps per measurement
    python benchmarks/gpt.py --profile       # cProfile of ember's steps, the top 25 entries
    python benchmarks/gpt.py --threads 1     # both frameworks on one thread (a busy machine)

The frameworks take turns, ``--steps`` timed steps each after one untimed step (see
``measure``), for ``--repeats`` rounds. The ratio is the median of the rounds' ratios, each
ember's time over PyTorch's in the same round: on a shared machine whose speed drifts from
second to second, that pairs times measured close together. Each step is timed twice:
wall-clock and the process's CPU time (user + system). On a machine that other jobs keep busy,
the wall-clock time mostly measures waiting for a core; with one thread per framework the CPU
time is the steadier figure, and its system part shows the cost of page faults (memory the
allocator returned to the system and maps afresh).

The model is written once for either framework, in the spirit of karpathy/nanoGPT's
``model.py``: token and position embeddings, pre-norm blocks of causal self-attention (through
``F.scaled_dot_product_attention(..., is_causal=True)``) and a GELU MLP, the output layer's
weight tied to the token embedding, AdamW with weight decay on the matrices only, and
``clip_grad_norm_``. One step is forward, backward, clipping and the optimizer's update. Both
frameworks start from the same weights and see the same batches; the two losses are printed
so a difference shows.
"""

import argparse
import cProfile
import math
import os
import pstats
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

CONFIG = {"n_layer": 4, "n_head": 4, "n_embd": 128, "block_size": 64, "vocab_size": 65,
          "dropout": 0.0, "bias": True}
BATCH = 12


def gpt(torch, n_layer, n_head, n_embd, block_size, vocab_size, dropout, bias):
    """The GPT, built with ``torch`` (ember or PyTorch)."""
    nn = torch.nn
    F = torch.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)
            self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
            self.resid_dropout = nn.Dropout(dropout)

        def forward(self, x):
            batch, length, features = x.size()
            q, k, v = self.c_attn(x).split(n_embd, dim=2)
            q, k, v = (t.view(batch, length, n_head, features // n_head).transpose(1, 2)
                       for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=None,
                                               dropout_p=dropout if self.training else 0,
                                               is_causal=True)
            y = y.transpose(1, 2).contiguous().view(batch, length, features)
            return self.resid_dropout(self.c_proj(y))

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=bias)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x):
            return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(n_embd, bias=bias)
            self.attn = CausalSelfAttention()
            self.ln_2 = nn.LayerNorm(n_embd, bias=bias)
            self.mlp = MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(vocab_size, n_embd),
                wpe=nn.Embedding(block_size, n_embd),
                drop=nn.Dropout(dropout),
                h=nn.ModuleList([Block() for _ in range(n_layer)]),
                ln_f=nn.LayerNorm(n_embd, bias=bias),
            ))
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
            self.transformer.wte.weight = self.lm_head.weight  # tied, as in GPT-2
            self.apply(self._init_weights)
            for name, parameter in self.named_parameters():
                if name.endswith("c_proj.weight"):
                    nn.init.normal_(parameter, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

        def _init_weights(self, module):
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

        def forward(self, idx, targets):
            positions = torch.arange(0, idx.size(1), dtype=torch.long)
            x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(positions))
            for block in self.transformer.h:
                x = block(x)
            logits = self.lm_head(self.transformer.ln_f(x))
            return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1),
                                   ignore_index=-1)

        def configure_optimizers(self, weight_decay, learning_rate, betas):
            parameters = [p for p in self.parameters() if p.requires_grad]
            groups = [{"params": [p for p in parameters if p.dim() >= 2],
                       "weight_decay": weight_decay},
                      {"params": [p for p in parameters if p.dim() < 2], "weight_decay": 0.0}]
            return torch.optim.AdamW(groups, lr=learning_rate, betas=betas)

    return GPT()


def frameworks():
    import torch
    if torch.__name__ != "torch":  # `ember run` maps torch to ember: ember would race itself
        sys.exit("run this benchmark with python, not `ember run`: it compares ember with PyTorch")

    import ember
    return {"ember": ember, "torch": torch}


def build(libs, seed: int = 0):
    """The model and optimizer in each framework, ember's starting from PyTorch's weights."""
    torch = libs["torch"]
    torch.manual_seed(seed)
    models = {"torch": gpt(torch, **CONFIG)}
    models["ember"] = gpt(libs["ember"], **CONFIG)
    state = {k: libs["ember"].tensor(v.detach().numpy())
             for k, v in models["torch"].state_dict().items()}
    models["ember"].load_state_dict(state)
    optimizers = {name: model.configure_optimizers(0.1, 1e-3, (0.9, 0.95))
                  for name, model in models.items()}
    return models, optimizers


def batches(count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    size = (BATCH, CONFIG["block_size"])
    return [(rng.integers(0, CONFIG["vocab_size"], size), rng.integers(0, CONFIG["vocab_size"],
                                                                        size))
            for _ in range(count)]


def step_function(lib, model, optimizer):
    def step(idx, targets):
        loss = model(idx, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss
    return step


def measure(steps: int, repeats: int) -> dict:
    libs = frameworks()
    models, optimizers = build(libs)
    data = batches(steps)
    inputs = {name: [(lib.tensor(x), lib.tensor(y)) for x, y in data]
              for name, lib in libs.items()}
    steppers = {name: step_function(libs[name], models[name], optimizers[name])
                for name in libs}
    losses = {name: [] for name in libs}
    samples = {name: [] for name in libs}
    cpu = {name: [] for name in libs}
    for repeat in range(repeats + 1):  # the first round warms up and is not counted
        for name in ("ember", "torch"):  # alternating, so both see the same machine state
            # A step first, untimed: PyTorch's OpenMP threads spin for a few milliseconds
            # after its last step and would take a core from ember's first (and ember's
            # threads do not spin), which a program training with one framework never meets.
            if repeat:
                steppers[name](*inputs[name][-1])
            start, start_cpu = time.perf_counter(), time.process_time()
            for idx, targets in inputs[name]:
                loss = steppers[name](idx, targets)
                if repeat == 0:
                    losses[name].append(loss.item())
            if repeat:
                samples[name].append((time.perf_counter() - start) / steps * 1000)
                cpu[name].append((time.process_time() - start_cpu) / steps * 1000)
    # Each round's ratio, ember's steps to PyTorch's right after (or before): a slow stretch
    # of the shared machine then slows both sides of one ratio, not one side of the medians.
    rounds = [e / t for e, t in zip(samples["ember"], samples["torch"])]
    return {"ms": {name: statistics.median(values) for name, values in samples.items()},
            "ratio": statistics.median(rounds), "ratio_spread": (min(rounds), max(rounds)),
            "cpu_ms": {name: statistics.median(values) for name, values in cpu.items()},
            "spread": {name: (min(values), max(values)) for name, values in samples.items()},
            "first_losses": losses}


def profile(steps: int) -> None:
    libs = frameworks()
    models, optimizers = build(libs)
    step = step_function(libs["ember"], models["ember"], optimizers["ember"])
    data = [(libs["ember"].tensor(x), libs["ember"].tensor(y)) for x, y in batches(steps)]
    step(*data[0])
    profiler = cProfile.Profile()
    profiler.enable()
    for idx, targets in data:
        step(idx, targets)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="steps per measurement")
    parser.add_argument("--repeats", type=int, default=7, help="measurements per framework")
    parser.add_argument("--profile", action="store_true", help="cProfile ember's steps")
    parser.add_argument("--threads", type=int, help="threads per op in both frameworks")
    args = parser.parse_args()
    if args.threads:
        for lib in frameworks().values():
            lib.set_num_threads(args.threads)
    if args.profile:
        profile(args.steps)
        return
    result = measure(args.steps, args.repeats)
    print(f"GPT {CONFIG['n_layer']} layers, {CONFIG['n_head']} heads, {CONFIG['n_embd']} "
          f"features, {CONFIG['block_size']} tokens, batch {BATCH}: ms per training step")
    for name in ("ember", "torch"):
        low, high = result["spread"][name]
        print(f"  {name:6s} {result['ms'][name]:8.1f}   (min {low:.1f}, max {high:.1f})   "
              f"CPU {result['cpu_ms'][name]:.1f}")
    low, high = result["ratio_spread"]
    print(f"  ratio ember / torch: {result['ratio']:.2f}, the median of {args.repeats} rounds' "
          f"(min {low:.2f}, max {high:.2f})   "
          f"CPU {result['cpu_ms']['ember'] / result['cpu_ms']['torch']:.2f}")
    first = {name: values[:3] for name, values in result["first_losses"].items()}
    print(f"  first losses: ember {first['ember']}, torch {first['torch']}")


if __name__ == "__main__":
    main()
