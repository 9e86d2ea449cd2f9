"""Layers, losses and optimizers on ember: points in the plane, their radius and their ring.

Run it with ``python examples/fit_modules.py``. ``nn.Sequential`` chains layers into a model
whose parameters autograd tracks. A first model learns a point's distance from the origin with
``nn.MSELoss``, trained by hand (backward, then a gradient step on each of
``model.parameters()`` under ``no_grad``); a second one learns which of three rings a point lies
in, with ``nn.CrossEntropyLoss`` and ``torch.optim.Adam`` doing the updates.
"""

import ember as torch
from ember import nn

# Points in the square [-2, 2]^2; their distance from the origin decides the class.
points = torch.rand(400, 2) * 4 - 2
radius = points.norm(dim=1)

model = nn.Sequential(
    nn.Linear(2, 32),
    nn.Tanh(),
    nn.Linear(32, 1),
    nn.Flatten(0),  # (400, 1) -> (400,), the shape of the targets
)
print(model)
loss_fn = nn.MSELoss()

learning_rate = 0.2
for step in range(300):
    prediction = model(points)
    loss = loss_fn(prediction, radius)
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter -= learning_rate * parameter.grad
    if step % 50 == 0 or step == 299:
        print(f"step {step:3d}  mean squared error {loss.item():.5f}")
with torch.no_grad():
    probe = torch.tensor([[0.0, 0.0], [1.1, 0.3], [-1.7, 1.6]])
    print(f"radius at three probes: {model(probe)} (true {probe.norm(dim=1)})")

# Three classes: inside the ring 0.8 < radius < 1.5 (0), on it (1), outside it (2).
classes = (radius > 0.8).long() + (radius >= 1.5).long()
print(f"class sizes: {[int((classes == k).sum()) for k in range(3)]}")

model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3))
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
print(f"{sum(p.numel() for p in model.parameters())} parameters: "
      f"{[name for name, _ in model.named_parameters()]}")
for step in range(200):
    optimizer.zero_grad()
    logits = model(points)
    loss = loss_fn(logits, classes)
    loss.backward()
    optimizer.step()
    if step % 40 == 0 or step == 199:
        accuracy = (logits.argmax(dim=1) == classes).float().mean()
        print(f"step {step:3d}  loss {loss.item():.4f}  accuracy {accuracy.item():.3f}")

with torch.no_grad():
    probabilities = torch.softmax(model(probe), dim=1)
    confidence, predicted = probabilities.max(dim=1)
    print(f"classes at the probes: {predicted.tolist()}, probability > 0.9: {confidence > 0.9}")
