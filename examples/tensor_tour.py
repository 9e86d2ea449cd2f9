"""Tensors on ember: a week of weather readings as a worked tour.

Run it with ``python examples/tensor_tour.py``. It builds tensors from lists, NumPy arrays and
factory functions, prints them, reads their shape, dtype and device, indexes and masks them,
broadcasts, reduces, reshapes and joins them, multiplies matrices, changes them in place and
passes memory back and forth with NumPy.
"""

import numpy as np

import ember as torch

# Noon temperatures in degrees Fahrenheit: one row per day, one column per city.
cities = ["Oslo", "Lima", "Cairo"]
fahrenheit = torch.tensor([[41.0, 68.0, 86.0],
                           [39.5, 70.2, 88.1],
                           [45.1, 69.8, 90.4],
                           [43.3, 71.6, 84.2],
                           [38.8, 66.9, 87.5],
                           [40.2, 67.3, 91.0],
                           [42.7, 72.5, 89.9]])
print(f"readings:\n{fahrenheit}")
print(f"shape {fahrenheit.shape}, dtype {fahrenheit.dtype}, device {fahrenheit.device}")

# Arithmetic works element by element; a Python number applies to every element.
celsius = (fahrenheit - 32) * 5 / 9
print(f"in Celsius:\n{celsius}")

# Reductions along a dimension: dim=0 runs down the days, dim=1 across the cities.
print(f"weekly mean per city: {celsius.mean(dim=0)}")
hottest, day = celsius.max(dim=0)
for name, value, index in zip(cities, hottest.tolist(), day.tolist()):
    print(f"{name}: hottest {value:.2f} C on day {index}")
print(f"coolest day per city: {celsius.argmin(dim=0)}")

# Indexing and slicing as in NumPy; a boolean mask picks elements.
print(f"Lima all week: {celsius[:, 1]}")
print(f"the weekend: {celsius[-2:]}")
print(f"readings above 30 C: {celsius[celsius > 30]}")

# Broadcasting: a row of per-city means is subtracted from every day.
anomaly = celsius - celsius.mean(dim=0, keepdim=True)
print(f"difference from the weekly mean:\n{anomaly}")
print(f"largest swing: {anomaly.abs().max().item():.3f}")

# Reshaping, transposing and joining.
pairs = torch.arange(12).reshape(3, 4)
print(f"arange reshaped:\n{pairs}")
print(f"transposed shape: {pairs.T.shape}, flattened: {pairs.flatten()}")
print(f"concatenated: {torch.cat([pairs[0], pairs[2]])}")
print(f"stacked:\n{torch.stack([pairs[:, 0], pairs[:, 3]], dim=1)}")

# Matrix products: weighted averages of the cities with two sets of weights.
weights = torch.tensor([[0.5, 0.25], [0.25, 0.5], [0.25, 0.25]])
print(f"weighted daily averages:\n{celsius @ weights}")
print(f"same with matmul: {torch.equal(celsius.matmul(weights), celsius @ weights)}")

# Factory functions and dtypes.
print(torch.zeros(2, 3), torch.ones(2, dtype=torch.int64), torch.full((2,), 7.5))
print(torch.linspace(0, 1, steps=5), torch.eye(2))
print(f"random uniform:\n{torch.rand(2, 3)}")
print(f"random normal:\n{torch.randn(2, 2)}")
counts = torch.tensor([3, 1, 2])
print(f"{counts.dtype} -> {counts.float().dtype}: {counts.float() / 2}")

# In-place operations end in an underscore and change the tensor itself.
calibration = torch.zeros(3)
calibration.add_(0.5)
calibration.mul_(torch.tensor([1.0, -1.0, 2.0]))
celsius[0].add_(calibration)
print(f"calibrated first day: {celsius[0]}")

# NumPy bridge: a CPU tensor and the array made from it share memory.
counter = torch.ones(4)
array = counter.numpy()
counter.mul_(3)
print(f"tensor {counter} and array {array}")
grid = np.arange(6, dtype=np.float32).reshape(2, 3)
shared = torch.from_numpy(grid)
grid[1, 1] = -1.0
print(f"from_numpy sees the change:\n{shared}")
copied = torch.tensor(grid)
grid[0, 0] = 100.0
print(f"tensor() copies: {copied[0, 0].item()}, array now {grid[0, 0]}")
