"""Custom autograd Functions on ember: your own forward and backward.

Run it with ``python examples/custom_function.py``. A ``torch.autograd.Function`` subclass
computes its output in ``forward`` and the gradient of its inputs in ``backward``; ``ctx``
carries what backward needs from one to the other. Two are defined here: a smooth rectifier with
its exact derivative (checked numerically with ``gradcheck``), and rounding to a grid with a
"straight-through" gradient, used to train a linear model whose weights are multiples of 1/8.
"""

import ember as torch


class Squareplus(torch.autograd.Function):
    """(x + sqrt(x^2 + b)) / 2: a smooth ReLU whose derivative is (1 + x / sqrt(x^2 + b)) / 2."""

    @staticmethod
    def forward(ctx, input, b):
        root = torch.sqrt(input * input + b)
        # backward needs x and the root; tensors go through save_for_backward
        ctx.save_for_backward(input, root)
        return (input + root) / 2

    @staticmethod
    def backward(ctx, grad_output):
        input, root = ctx.saved_tensors
        # one gradient per forward input: b is a Python number, so its gradient is None
        return grad_output * (1 + input / root) / 2, None


class RoundToGrid(torch.autograd.Function):
    """Round to the nearest multiple of ``step`` within [-limit, limit].

    Rounding has zero gradient almost everywhere, which would stop training. The backward pass
    instead lets the gradient through unchanged where the input is inside the range, as if the
    rounding were the identity (the straight-through estimator).
    """

    @staticmethod
    def forward(ctx, input, step, limit):
        ctx.save_for_backward(input)
        ctx.limit = limit  # plain Python values can be kept on ctx as attributes
        return torch.clamp(torch.round(input / step) * step, -limit, limit)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        inside = (input.abs() <= ctx.limit).to(grad_output.dtype)
        return grad_output * inside, None, None


# The smooth one against finite differences, in float64 as gradcheck wants.
points = torch.linspace(-3, 3, 7, dtype=torch.float64, requires_grad=True)
smooth = Squareplus.apply(points, 1.0)
smooth.sum().backward()
print(f"squareplus: {smooth.detach()}")
print(f"its gradient: {points.grad}")
passes = torch.autograd.gradcheck(lambda x: Squareplus.apply(x, 1.0), (points,))
print(f"gradcheck passes: {passes}")

# The straight-through gradient, shown on a few values.
values = torch.tensor([-2.7, -0.31, 0.06, 0.9, 2.2], requires_grad=True)
rounded = RoundToGrid.apply(values, 0.25, 2.0)
rounded.sum().backward()
print(f"rounded: {rounded.detach()}")
print(f"gradient: {values.grad}")

# Targets from weights that are not all on the grid, plus noise.
features = torch.randn(200, 3)
true_weight = torch.tensor([0.75, -1.3, 0.4])
targets = features @ true_weight + 0.5 + 0.05 * torch.randn(200)

latent = torch.zeros(3, requires_grad=True)  # the float weights that training moves
bias = torch.zeros((), requires_grad=True)
learning_rate = 0.05
for step in range(120):
    weight = RoundToGrid.apply(latent, 0.125, 2.0)
    prediction = features @ weight + bias
    loss = ((prediction - targets) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        latent -= learning_rate * latent.grad
        bias -= learning_rate * bias.grad
    latent.grad = None
    bias.grad = None
    if step % 20 == 0 or step == 119:
        print(f"step {step:3d}  loss {loss.item():.5f}  weight {weight.tolist()}")
print(f"latent {latent.detach()}, bias {bias.item():.4f}")
