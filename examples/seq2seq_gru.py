"""Sequence to sequence on ember: a GRU encoder-decoder rewrites dates.

Run it with ``python examples/seq2seq_gru.py`` (``--steps`` and ``--hidden`` change the run).
The task: read a date as people write it, "7 mar 2021", and write it as ISO 8601, "2021-03-07".
An encoder (``nn.Embedding`` then ``nn.GRU``) reads the input characters and its final hidden
state starts a decoder GRU that writes the output one character at a time. Training uses teacher
forcing: the decoder reads the true previous character, so one GRU call covers the whole output;
the loss is ``nn.NLLLoss`` on log-softmax scores. Evaluation decodes greedily, feeding back the
most likely character, and prints the share of dates and of characters it gets right.
"""

import argparse

import ember as torch
import ember.nn.functional as F
from ember import nn

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
PAD, START = "_", ">"  # PAD fills short inputs on the left, START begins every output
VOCAB = sorted(set("0123456789- " + "".join(MONTHS))) + [PAD, START]
INDEX = {char: i for i, char in enumerate(VOCAB)}
IN_LENGTH = len("28 dec 2029")
OUT_LENGTH = len("2029-12-28")


def random_dates(count: int):
    """``count`` (written, ISO) pairs, days 1-28 so that every month has them."""
    days = torch.randint(1, 29, (count,)).tolist()
    months = torch.randint(1, 13, (count,)).tolist()
    years = torch.randint(1950, 2030, (count,)).tolist()
    return [(f"{d} {MONTHS[m - 1]} {y}", f"{y}-{m:02d}-{d:02d}")
            for d, m, y in zip(days, months, years)]


def encode(strings, length: int):
    """A (len(strings), length) tensor of character ids, left-padded."""
    return torch.tensor([[INDEX[c] for c in s.rjust(length, PAD)] for s in strings])


class DateTranslator(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.embed = nn.Embedding(len(VOCAB), 16)  # shared by encoder and decoder inputs
        self.encoder = nn.GRU(16, hidden, batch_first=True)
        self.decoder = nn.GRU(16, hidden, batch_first=True)
        self.score = nn.Linear(hidden, len(VOCAB))

    def encode(self, source):
        _, hidden = self.encoder(self.embed(source))
        return hidden  # (1, batch, hidden): the whole input in one vector per date

    def decode(self, previous, hidden):
        """Log-probabilities of the next characters, given the ones before them."""
        output, hidden = self.decoder(self.embed(previous), hidden)
        return F.log_softmax(self.score(output), dim=-1), hidden

    def forward(self, source, target_in):
        log_probs, _ = self.decode(target_in, self.encode(source))
        return log_probs

    @torch.no_grad()
    def translate(self, source):
        """Greedy decoding: the most likely character at each step becomes the next input."""
        hidden = self.encode(source)
        previous = torch.full((source.shape[0], 1), INDEX[START])
        written = []
        for _ in range(OUT_LENGTH):
            log_probs, hidden = self.decode(previous, hidden)
            previous = log_probs.argmax(dim=-1)
            written.append(previous)
        return torch.cat(written, dim=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--test-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    model = DateTranslator(args.hidden)
    print(model)
    loss_fn = nn.NLLLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

    test = random_dates(args.test_size)
    test_source = encode([written for written, _ in test], IN_LENGTH)
    test_target = encode([iso for _, iso in test], OUT_LENGTH)

    for step in range(1, args.steps + 1):
        pairs = random_dates(args.batch_size)
        source = encode([written for written, _ in pairs], IN_LENGTH)
        # teacher forcing: the decoder reads START and the target, shifted one to the right
        target_in = encode([START + iso[:-1] for _, iso in pairs], OUT_LENGTH)
        target_out = encode([iso for _, iso in pairs], OUT_LENGTH)
        log_probs = model(source, target_in)
        loss = loss_fn(log_probs.reshape(-1, len(VOCAB)), target_out.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step == 1 or step % 100 == 0 or step == args.steps:
            print(f"step {step:5d}  loss {loss.item():.4f}")

    predicted = model.translate(test_source)
    correct = predicted == test_target
    print(f"dates right: {correct.all(dim=1).float().mean().item():.3f}, "
          f"characters right: {correct.float().mean().item():.3f}")
    for (written, iso), row in list(zip(test, predicted.tolist()))[:5]:
        print(f"{written:>11} -> {''.join(VOCAB[i] for i in row)} (expected {iso})")


if __name__ == "__main__":
    main()
