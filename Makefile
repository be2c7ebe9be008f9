# The course in two commands: `make book` builds it, `make test` checks everything.
# Both create .venv on first use (needs python3 and make; npm, where present, brings the lighter
# plotly.js bundle the book serves, book/_ext/fetch_plotly.py) and reuse it afterwards.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.ready
NOTEBOOKS := $(shell find book -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort)

.PHONY: book test lab notebooks bench chromium clean anki

$(READY): requirements.txt pyproject.toml book/_ext/fetch_plotly.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python book/_ext/fetch_plotly.py $(VENV)/share/lrcourse
	@touch $(READY)

book: $(READY)
	$(BIN)/jupyter-book build . --warningiserror --keep-going --quiet
	@echo "The book: $(CURDIR)/_build/html/index.html"

# Two workers (pytest-xdist), a file at a time: a notebook's cells share one kernel, in order.
# --no-loadscope-reorder keeps tests/conftest.py's order (the slowest files first) instead of
# xdist's (the files with the most tests first, which left the browser tests for the end).
test: $(READY) chromium
	$(BIN)/python -m pytest tests book --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg -q -n 2 --dist loadfile --no-loadscope-reorder

# The browser test needs Debian's chromium. As root (CI) install it; otherwise say how.
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "chromium is missing: the browser test will be skipped. Install it with: sudo apt-get install chromium"; \
		fi; \
	fi

# JupyterLab on a copy of the chapters in _build/lab (saving never touches the committed book/;
# a chapter already copied is kept, with your edits: delete _build/lab to start again).
# LAB_DIR=book opens the chapters themselves (get them back with `git checkout book/`);
# LAB_ARGS passes JupyterLab options, e.g. make lab LAB_ARGS="--no-browser --port 8899".
LAB_DIR  ?= _build/lab
LAB_ARGS ?=
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
lab: $(READY)
	@if [ "$(LAB_DIR)" != book ]; then mkdir -p "$(LAB_DIR)" && for chapter in book/*.ipynb; do \
		[ -e "$(LAB_DIR)/$${chapter##*/}" ] || cp "$$chapter" "$(LAB_DIR)/"; done; fi
	$(BIN)/jupyter lab $(LAB_ROOT) $(LAB_ARGS) $(LAB_DIR)

# Re-run every notebook in place from a fresh kernel (outputs are committed; nbval checks them).
notebooks: $(READY)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=600 --ExecutePreprocessor.kernel_name=python3 \
		--NotebookClient.store_widget_state=False $(NOTEBOOKS)

bench: $(READY)
	$(BIN)/python -m benchmarks

# The interview questions as an Anki deck, from lrcourse/interview/questions.yml. Its links point
# to the published book when LRCOURSE_BOOK_URL is set (e.g. https://…/lrcourse/).
anki: $(READY)
	$(BIN)/python -m lrcourse.interview _build/lrcourse-interview.apkg

clean:
	rm -rf _build
