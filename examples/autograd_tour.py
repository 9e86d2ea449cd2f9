"""Autograd on ember: gradients by hand and by backward(), then fitting a circle.

Run it with ``python examples/autograd_tour.py``. Tensors created with ``requires_grad=True``
record the operations applied to them; ``backward()`` fills each leaf's ``.grad``. The second
half fits a circle's centre and radius to noisy points with plain gradient descent, updating the
parameters under ``torch.no_grad()``.
"""

import math

import ember as torch

# f(x, y) = x^2 y + sin(y): by hand, df/dx = 2xy and df/dy = x^2 + cos(y).
x = torch.tensor(1.5, requires_grad=True)
y = torch.tensor(-0.5, requires_grad=True)
f = x ** 2 * y + torch.sin(y)
print(f"f = {f.item():.6f}, built by {type(f.grad_fn).__name__}")
f.backward()
print(f"df/dx = {x.grad.item():.6f} (by hand {2 * 1.5 * -0.5:.6f})")
print(f"df/dy = {y.grad.item():.6f} (by hand {1.5 ** 2 + math.cos(-0.5):.6f})")

# Gradients add up over backward calls until they are cleared.
g = 3 * x
g.backward()
print(f"after a second backward, x.grad = {x.grad.item():.6f}")
x.grad = None

# Only results of tracked tensors are tracked; no_grad() and detach() switch tracking off.
plain = torch.ones(3)
print(f"requires_grad: x {x.requires_grad}, plain {plain.requires_grad}, "
      f"x * plain {(x * plain).requires_grad}")
with torch.no_grad():
    print(f"inside no_grad: {(x * plain).requires_grad}")
print(f"detached: {(x * plain).detach().requires_grad}")

# A non-scalar result needs the gradient of some scalar with respect to it: here of
# sum(w * v), so each element of v is weighted by w.
v = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
squares = v * v
squares.backward(gradient=torch.tensor([1.0, 0.1, 0.01]))
print(f"weighted gradient of v*v: {v.grad}")

# Fitting a circle: points around centre (2, -1) with radius 3, with some noise.
angles = torch.rand(60) * 2 * math.pi
radii = 3 + 0.1 * torch.randn(60)
px = 2 + radii * torch.cos(angles)
py = -1 + radii * torch.sin(angles)

cx = torch.tensor(0.0, requires_grad=True)
cy = torch.tensor(0.0, requires_grad=True)
r = torch.tensor(1.0, requires_grad=True)
learning_rate = 0.1
for step in range(150):
    distance = torch.sqrt((px - cx) ** 2 + (py - cy) ** 2)
    loss = ((distance - r) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        for parameter in (cx, cy, r):
            parameter -= learning_rate * parameter.grad
            parameter.grad.zero_()
    if step % 25 == 0 or step == 149:
        print(f"step {step:3d}  loss {loss.item():.6f}")
print(f"centre ({cx.item():.4f}, {cy.item():.4f}), radius {r.item():.4f}")
