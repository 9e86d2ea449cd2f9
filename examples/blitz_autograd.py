"""The 60-minute blitz "A Gentle Introduction to torch.autograd", run on ember.

Only the import differs. The tutorial's resnet18 part needs torchvision and downloaded weights,
so it is left out.
"""

import ember as torch

# Differentiation in autograd
a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)

Q = 3*a**3 - b**2

# Q is a vector, so backward needs a gradient of Q's shape: dQ/dQ = 1
external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)

# check if collected gradients are correct
print(9*a**2 == a.grad)
print(-2*b == b.grad)

# Exclusion from the DAG: an output requires grad if any input does
x = torch.rand(5, 5)
y = torch.rand(5, 5)
z = torch.rand((5, 5), requires_grad=True)

a = x + y
print(f"Does `a` require gradients?: {a.requires_grad}")
b = x + z
print(f"Does `b` require gradients?: {b.requires_grad}")
