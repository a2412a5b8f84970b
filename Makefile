# The two commands of the quick start. Each does its own set-up (scripts/setup.sh).
VENV := .venv/bin
REPORT := configs/reports/weekly_leadership.yaml
# pytest-xdist workers for `make test` (auto: one per core); the demo data and the shared report
# builds are still made once per run (tests/_shared.py), a module's tests stay on one worker and
# the longest modules start first (LONG_MODULES in tests/conftest.py)
TEST_WORKERS ?= auto

.PHONY: demo test lint format bench clean

demo:  ## install, generate the demo data, build the latest complete week
	scripts/setup.sh
	$(VENV)/reportgen demo-data
	$(VENV)/reportgen build $(REPORT)

test:  ## install with test extras and system packages, lint, type-check, run the whole suite
	scripts/setup.sh --test
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy
	$(VENV)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

format:
	$(VENV)/ruff format .
	$(VENV)/ruff check --fix .

bench:  ## 1M, 10M and 100M-row builds, cold and cached (README: Benchmarks)
	$(VENV)/python benchmarks/bench_build.py

clean:
	rm -rf output/*/ data/ .pytest_cache
