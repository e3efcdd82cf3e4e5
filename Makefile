# Backprop by hand. `make` sets everything up, builds the book and grades the sample
# submissions; `make test` runs the whole test suite.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SAMPLES := _build/samples
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: all setup system-deps exercises book samples lint test bench bench-course bench-conv bench-capstone clean

all: setup book samples

setup: system-deps $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml setup.py
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .      # the backprop-grader command
	touch $@

# bubblewrap (the grading sandbox) and chromium (browser tests) come from Debian.
system-deps:
	@missing=""; \
	command -v bwrap >/dev/null || missing="$$missing bubblewrap"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "please install:$$missing (e.g. sudo apt-get install$$missing)"; exit 1; \
	  fi; \
	fi

# exercises/ is generated from solutions/ by nbgrader; never edit it by hand.
exercises: setup
	$(PY) -m autograder.course.release

book: setup
	$(PY) scripts/build_book.py

samples: setup
	$(PY) -m autograder.course.samples $(SAMPLES)/submitted
	$(VENV)/bin/backprop-grader grade $(SAMPLES)/submitted --out $(SAMPLES)/graded --jobs 2

lint: setup
	$(VENV)/bin/ruff check .

test: setup book lint
	$(PY) -m pytest -q

bench: setup
	$(PY) scripts/bench_grading.py

# N students x every chapter with this grader, a sample with stock nbgrader (STUDENTS=40)
bench-course: setup
	$(PY) scripts/bench_course.py --students $(or $(STUDENTS),40)

# chapter 7: naive (loops) against fast (pure numpy) convolution and max-pool layers
bench-conv: setup
	$(PY) scripts/bench_conv.py

# The capstone's CNN trained in numpy and in PyTorch, same weights and batches, in one run.
bench-capstone: setup
	$(PY) scripts/bench_capstone.py

clean:
	rm -rf _build
