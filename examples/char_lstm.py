"""A character-level language model on ember: an LSTM learns to continue a short text.

Run it with ``python examples/char_lstm.py`` (``--steps``, ``--sample-length`` and
``--temperature`` change the run). Characters become vectors through ``nn.Embedding``, an
``nn.LSTM`` reads them in order and ``nn.Linear`` scores every possible next character. Training
takes random windows of the text, minimises the cross-entropy of the next character with Adam and
keeps each step's gradient norm under a limit with ``nn.utils.clip_grad_norm_``. Sampling then
feeds the model its own output one character at a time, drawing each from the softmax of the
scores divided by a temperature (``torch.multinomial``); lower temperatures stay closer to the
text.
"""

import argparse

import ember as torch
import ember.nn.functional as F
from ember import nn

TEXT = """\
The keeper of the north light climbs the stairs every evening at dusk. There are one hundred \
and twelve of them, and she knows each by the sound it makes under her boots. At the top she \
trims the wick, polishes the glass and winds the clockwork that turns the lens. Then she sits \
by the window with a mug of tea and watches the boats come home.
On calm nights the sea is quiet and the beam sweeps over flat grey water. On stormy nights the \
waves climb the rocks below and the whole tower hums with the wind. She writes both kinds of \
night in her logbook: the hour, the weather, the ships she saw and the ones she only heard.
In the morning she walks down again, sleeps until noon and bakes bread in the small stone \
kitchen. The gulls wait on the wall for the crusts. She tells them the bread is for the keeper, \
not for gulls, and then she gives them the crusts anyway.
"""


class CharLSTM(nn.Module):
    """Next-character scores for every position of a batch of character ids."""

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids, state=None):
        # state is the LSTM's (h, c): passing it back in continues where the last call stopped
        output, state = self.lstm(self.embed(ids), state)
        return self.head(output), state


def sample(model, stoi, itos, prompt: str, length: int, temperature: float) -> str:
    """Continue ``prompt`` by ``length`` characters drawn from the model."""
    with torch.no_grad():
        ids = torch.tensor([[stoi[char] for char in prompt]])
        logits, state = model(ids)
        characters = []
        for _ in range(length):
            probabilities = F.softmax(logits[0, -1] / temperature, dim=-1)
            next_id = torch.multinomial(probabilities, num_samples=1)
            characters.append(itos[next_id.item()])
            logits, state = model(next_id.view(1, 1), state)
    return prompt + "".join(characters)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="training steps")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--window", type=int, default=48, help="characters per training window")
    parser.add_argument("--hidden", type=int, default=128, help="LSTM hidden size")
    parser.add_argument("--sample-length", type=int, default=240)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    itos = sorted(set(TEXT))
    stoi = {char: index for index, char in enumerate(itos)}
    data = torch.tensor([stoi[char] for char in TEXT])
    print(f"{len(TEXT)} characters, {len(itos)} distinct")

    model = CharLSTM(len(itos), embedding_dim=32, hidden_size=args.hidden)
    print(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    offsets = torch.arange(args.window)
    for step in range(1, args.steps + 1):
        starts = torch.randint(0, len(data) - args.window - 1, (args.batch_size,))
        positions = starts[:, None] + offsets  # (batch, window): one window per row
        inputs, targets = data[positions], data[positions + 1]
        logits, _ = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, len(itos)), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        if step == 1 or step % 50 == 0 or step == args.steps:
            print(f"step {step:4d}  loss {loss.item():.4f}  gradient norm {norm.item():.4f}")

    print(sample(model, stoi, itos, "The keeper ", args.sample_length, args.temperature))


if __name__ == "__main__":
    main()
