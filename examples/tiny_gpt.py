"""A tiny GPT on ember: a decoder-only transformer learns a short text, then writes more.

Run it with ``python examples/tiny_gpt.py`` (``--steps``, ``--layers``, ``--width`` and
``--top-k`` change the run). Each character gets a token embedding plus a position embedding;
transformer blocks then mix positions with causal self-attention
(``F.scaled_dot_product_attention(..., is_causal=True)``, so a position sees only the ones before
it) and transform each position with a GELU MLP, both behind ``nn.LayerNorm`` and inside residual
connections. The output layer shares its weight with the token embedding (weight tying). AdamW
gets two parameter groups: weight decay for the weight matrices, none for biases, LayerNorm
parameters and the position table. Sampling keeps the ``top_k`` most likely characters
(``torch.topk``) and draws one of them.
"""

import argparse
import math

import ember as torch
import ember.nn.functional as F
from ember import nn

TEXT = """\
Tides come twice a day to the harbour town. When the water is high the fishing boats float up \
to the quay and the children jump from the harbour wall into the green water. When the water is \
low the boats lean on their keels in the mud, and the same children dig for crabs and lost coins \
between the mooring chains.
The baker on the quay knows the tide table by heart. She starts the ovens two hours before high \
water, because the fishermen want warm rolls before they sail, and she closes the shop at low \
water, because nobody buys bread while the boats are stuck in the mud.
Visitors ask why the town does not build a longer pier so that the boats could sail at any hour. \
The harbour master always gives the same answer: the sea keeps its own clock, and the town has \
learned to keep time with it.
"""


class SelfAttention(nn.Module):
    """Multi-head causal self-attention over (batch, time, width) inputs."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)  # queries, keys and values in one product
        self.mix = nn.Linear(width, width)

    def forward(self, x):
        batch, time, width = x.shape
        # (batch, time, 3 * width) -> three (batch, heads, time, width / heads) tensors
        q, k, v = self.qkv(x).view(batch, time, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.mix(attended.transpose(1, 2).reshape(batch, time, width))


class Block(nn.Module):
    """Attention then an MLP, each applied to a LayerNorm of the input and added back to it."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attention = SelfAttention(width, heads)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(),
                                 nn.Linear(4 * width, width))

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TinyGPT(nn.Module):
    """Next-token scores for every position of a batch of token ids."""

    def __init__(self, vocab_size: int, context: int, width: int, heads: int, layers: int):
        super().__init__()
        self.context = context
        self.tokens = nn.Embedding(vocab_size, width)
        self.positions = nn.Embedding(context, width)
        self.blocks = nn.Sequential(*[Block(width, heads) for _ in range(layers)])
        self.norm = nn.LayerNorm(width)
        self.unembed = nn.Linear(width, vocab_size, bias=False)
        self.unembed.weight = self.tokens.weight  # one matrix reads and writes tokens
        for name, parameter in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(parameter)
            elif parameter.dim() == 2:
                # small weights; the layers that write into the residual stream smaller still,
                # so that its variance does not grow with the depth
                writes_residual = name.endswith(("mix.weight", "mlp.2.weight"))
                std = 0.02 / math.sqrt(2 * layers) if writes_residual else 0.02
                nn.init.normal_(parameter, mean=0.0, std=std)

    def forward(self, ids):
        where = torch.arange(ids.shape[1])
        x = self.tokens(ids) + self.positions(where)
        return self.unembed(self.norm(self.blocks(x)))

    @torch.no_grad()
    def generate(self, ids, count: int, temperature: float, top_k: int):
        """Append ``count`` tokens to ``ids`` (batch, time), each drawn from the top_k."""
        for _ in range(count):
            logits = self(ids[:, -self.context:])[:, -1] / temperature
            kept, _ = torch.topk(logits, top_k, dim=-1)
            logits = logits.masked_fill(logits < kept[:, -1:], float("-inf"))
            next_ids = torch.multinomial(F.softmax(logits, dim=-1), num_samples=1)
            ids = torch.cat([ids, next_ids], dim=1)
        return ids


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="training steps")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--context", type=int, default=64, help="positions the model sees")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--sample-length", type=int, default=240)
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    itos = sorted(set(TEXT))
    stoi = {char: index for index, char in enumerate(itos)}
    data = torch.tensor([stoi[char] for char in TEXT])

    model = TinyGPT(len(itos), args.context, args.width, args.heads, args.layers)
    print(model)
    print(f"tied: {model.unembed.weight is model.tokens.weight}, "
          f"{sum(p.numel() for p in model.parameters())} parameters")

    # Weight decay pulls matrices towards zero; biases, LayerNorm scales and the position
    # table (1-d, or meant to be free) are left alone.
    decayed = [p for name, p in model.named_parameters()
               if p.dim() == 2 and not name.startswith("positions")]
    kept = [p for name, p in model.named_parameters()
            if p.dim() < 2 or name.startswith("positions")]
    optimizer = torch.optim.AdamW([{"params": decayed, "weight_decay": 0.1},
                                   {"params": kept, "weight_decay": 0.0}],
                                  lr=3e-3, betas=(0.9, 0.95))
    print(f"decayed tensors: {len(decayed)}, not decayed: {len(kept)}")

    offsets = torch.arange(args.context)
    for step in range(1, args.steps + 1):
        starts = torch.randint(0, len(data) - args.context - 1, (args.batch_size,))
        inputs, targets = data[starts[:, None] + offsets], data[starts[:, None] + offsets + 1]
        logits = model(inputs)
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step == 1 or step % 50 == 0 or step == args.steps:
            print(f"step {step:4d}  loss {loss.item():.4f}")

    prompt = torch.tensor([[stoi[char] for char in "The "]])
    ids = model.generate(prompt, args.sample_length, args.temperature, args.top_k)
    print("".join(itos[i] for i in ids[0].tolist()))


if __name__ == "__main__":
    main()
