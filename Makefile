# Two commands do all the set-up (see README.md):
#   make run    installs what is needed and plays a short guided exercise
#   make test   installs what is needed and runs the test suite but its long real-time plays
# and two more for the rest of the tests:
#   make test-realtime   only the long real-time plays (tests/conftest.py lists them)
#   make test-all        every test

PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
WORKERS ?= 2
# pytest processes at once; the tests that use the sound card stay together in one of them
PYTEST  := $(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup

.PHONY: run test test-realtime test-all bench clean

run: $(VENV)/.installed
	@sh ./system-packages.sh run
	@if $(BIN)/grounding devices >/dev/null 2>&1; then \
	  $(BIN)/grounding play quick-reset; \
	else \
	  echo "There is no sound output here; saving the session as a file instead."; \
	  mkdir -p out && $(BIN)/grounding play quick-reset --force --out out/quick-reset.wav; \
	fi

test: $(VENV)/.installed-test
	@sh ./system-packages.sh test
	$(PYTEST) -m "not realtime"

test-realtime: $(VENV)/.installed-test
	@sh ./system-packages.sh test
	$(BIN)/python -m pytest -m realtime

test-all: $(VENV)/.installed-test
	@sh ./system-packages.sh test
	$(PYTEST)

bench: $(VENV)/.installed-test
	@sh ./system-packages.sh test
	$(BIN)/python bench/run.py

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

clean:
	rm -rf $(VENV) out .pytest_cache
