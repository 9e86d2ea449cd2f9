# The two commands the README names:
#   make demo   set up, fetch Fashion-MNIST, train the tutorial net 2 epochs (ember's main job)
#   make test   set up and run the linter and the test suite (what .ci/run calls)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
NUMPY_ONLY_TESTS := tests/test_ops.py tests/test_optim.py tests/test_nn_functional.py \
	tests/test_losses.py tests/test_same_numbers.py tests/test_tutorial.py tests/test_compiled.py \
	tests/test_compile.py tests/test_compiled_linear.py tests/test_compile_replay.py \
	tests/test_attention.py tests/test_transformer.py tests/test_compiled_transformer.py \
	tests/test_nn_modules.py tests/test_fuzz_regressions.py
FASHION := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.PHONY: demo test setup setup-test data bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

setup: $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[train]'

setup-test: $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[test]'

# Debian's package where apt works (root, Debian), else ember's own download.
data: setup
	@if [ -e $(FASHION) ] || [ -n "$$EMBER_DATA" ]; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) || true; \
	fi; \
	[ -e $(FASHION) ] || $(PY) -m ember download fashion-mnist || \
		echo "warning: Fashion-MNIST is not available; tests that need it will skip"

demo: setup data
	$(VENV)/bin/ember train --epochs 2 --out runs/demo

test: setup-test data
	$(VENV)/bin/ruff check ember tests benchmarks examples
	$(PY) -m pytest -q -n 2 -p no:cacheprovider
	@# The op, loss, optimizer and same-number tests once more on the NumPy code alone: the
	@# compiled kernels (ember/_C) and their fallback both match PyTorch.
	EMBER_NO_EXTENSION=1 $(PY) -m pytest -q -n 2 -p no:cacheprovider $(NUMPY_ONLY_TESTS)

bench: setup-test data
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) runs build *.egg-info ember/_C/*.so
