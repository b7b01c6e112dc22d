# Two commands: `make run` and `make test`. Everything else is set-up they call.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py
# Without DATABASE_URL, `make run` and `make test` use the development SQLite file (production refuses to start).
export CNSCD_DEV := 1
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-sqlite test-postgres setup venv translations migrate seed lint bench clean extract-messages update-messages

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

translations: venv
	$(BIN)/pybabel compile -d translations

migrate: venv
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask demo seed

setup: venv translations

run: setup migrate seed
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# The suite on SQLite; then on PostgreSQL when TEST_DATABASE_URL is set (CI sets it and
# REQUIRE_POSTGRES=1 / REQUIRE_BROWSER=1, so a missing server or browser fails instead of skipping).
# Each pass in two pytest-xdist processes (CI's two cores), a test file to a process, each on a
# database of its own; TEST_WORKERS=0 for one process.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile
test: setup
	$(PYTEST)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== the suite again, on PostgreSQL =="; \
	  TEST_DB=postgres $(PYTEST); \
	elif [ "$$REQUIRE_POSTGRES" = "1" ]; then \
	  echo "REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set" >&2; exit 1; \
	fi

extract-messages: venv
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot --no-location --sort-output .

# The Vietnamese catalogue keeps its lines at 100 characters (its translations are longer than the source).
update-messages: extract-messages
	$(BIN)/pybabel update -i translations/messages.pot -d translations -l en --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel update -i translations/messages.pot -d translations -l vi -w 100 --no-fuzzy-matching --ignore-obsolete

lint: venv
	$(BIN)/ruff check .

bench: setup migrate
	$(BIN)/python bench/coverage_bench.py
	$(BIN)/python bench/export_bench.py

clean:
	rm -rf $(VENV) instance/*.db
