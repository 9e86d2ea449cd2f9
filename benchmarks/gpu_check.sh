#!/usr/bin/env bash
# Every GPU check in one run, for a machine with an NVIDIA GPU, CuPy and PyTorch (the device
# tool's machines: nothing is downloaded there, so ember runs from the source tree).
#   bash benchmarks/gpu_check.sh            results under $OUT (or ./gpu-results)
# It records, each in its own file: the device CuPy sees, the op/nn/optim tests on the "cuda"
# device (they skip on machines without one), and a short `ember train --device cuda`.
set -u
cd "$(dirname "$0")/.."
out=${OUT:-gpu-results}
mkdir -p "$out"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
nvidia-smi > "$out/nvidia-smi.txt" 2>&1
python -c "import cupy, ember; print('cupy', cupy.__version__); \
print('available', ember.cuda.is_available(), 'devices', ember.cuda.device_count())" \
    > "$out/device.txt" 2>&1
timeout 300 python -m pytest -q -p no:cacheprovider -k cuda -x tests/test_ops.py \
    tests/test_nn_functional.py tests/test_nn_modules.py tests/test_optim.py \
    tests/test_serialization.py > "$out/pytest_cuda.txt" 2>&1
timeout 120 python -m ember train --device cuda --epochs 1 --limit 5000 --test-limit 1000 \
    --no-progress --out "$out/train" > "$out/train.txt" 2>&1
tail -n 3 "$out"/*.txt
