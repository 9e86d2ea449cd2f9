"""Your own nn.Module on ember: a loop in forward, one layer reused at every step.

Run it with ``python examples/custom_module.py``. ``SequenceSum`` reads sequences of numbers one
position at a time with ordinary Python control flow: the loop runs as many times as the batch
is long, which differs from batch to batch, and every step goes through the same ``nn.Linear``,
so its weights are shared across steps and collect gradient from all of them. It learns to add
up the sequence and is trained with ``torch.optim.RMSprop``.
"""

import ember as torch
from ember import nn


class SequenceSum(nn.Module):
    """Reads (batch, length) numbers left to right and predicts each row's sum."""

    def __init__(self, hidden: int = 16):
        super().__init__()
        self.hidden = hidden
        self.step = nn.Linear(1 + hidden, hidden)  # one layer for every position
        self.out = nn.Linear(hidden, 1)

    def forward(self, numbers):
        state = torch.zeros(numbers.shape[0], self.hidden)
        for position in range(numbers.shape[1]):  # as many steps as the input is long
            column = numbers[:, position:position + 1]
            state = torch.tanh(self.step(torch.cat([column, state], dim=1)))
        return self.out(state).squeeze(1)


model = SequenceSum()
print(model)
for name, parameter in model.named_parameters():
    print(f"{name}: {tuple(parameter.shape)}")

# The same weights serve every step: their gradient adds up the steps' contributions.
short = torch.rand(4, 2)
model(short).sum().backward()
print(f"after 2 steps, |grad| of step.weight = {model.step.weight.grad.norm().item():.5f}")
model.zero_grad()
model(torch.cat([short, short, short], dim=1)).sum().backward()
print(f"after 6 steps, |grad| of step.weight = {model.step.weight.grad.norm().item():.5f}")

loss_fn = nn.MSELoss()
optimizer = torch.optim.RMSprop(model.parameters(), lr=0.005)
for step in range(500):
    length = torch.randint(2, 9, (1,)).item()  # each batch has its own length
    numbers = torch.rand(32, length) * 2 - 1
    loss = loss_fn(model(numbers), numbers.sum(dim=1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 100 == 0 or step == 499:
        print(f"step {step:3d}  length {length}  loss {loss.item():.5f}")

with torch.no_grad():
    for row in ([0.5, -0.25], [0.9, 0.8, -0.1, 0.3, 0.2], [-0.5] * 8):
        print(f"sum of {row}: predicted {model(torch.tensor([row])).item():.3f}, "
              f"true {sum(row):.3f}")
