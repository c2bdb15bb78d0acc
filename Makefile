# AFIRGen mesh: `make up` runs it, `make test` proves it. Both install what is
# missing first and are safe to run twice.
SHELL := /bin/bash
PY := .venv/bin/python
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install up down observe status test test-unit proto proto-check lint bench bench-short chaos chaos-short clean token eval backup restore lock

install:
	bash scripts/install/all.sh

up: install
	$(PY) -m scripts.devstack up

down:
	@if [[ -x $(PY) ]]; then $(PY) -m scripts.devstack.observe down && $(PY) -m scripts.devstack down; else echo "nothing to stop"; fi

# Prometheus (every service scraped, ops/prometheus alert rules loaded) and Jaeger (every span of
# Envoy and the services, a page per request) beside the `make up` stack, which it starts if down.
# The first run builds Jaeger (several minutes; cached after). `make down` stops them too.
observe: install
	$(PY) -m scripts.devstack.observe up

status:
	$(PY) -m scripts.devstack status

# A consistent backup of the running stack's MariaDB in backups/<UTC time>/ (owner-only: personal data)
backup: install
	$(PY) -m scripts.devstack.backup create

# Restore a backup (BACKUP=backups/<time>, default the newest) into a fresh data directory of the
# stopped stack and start it; UNTIL='2026-11-28 10:14:00' (UTC) replays the binlogs to that moment.
# docs/runbooks/backup-and-restore.md
restore: install
	$(PY) -m scripts.devstack.backup restore $(BACKUP) $(if $(UNTIL),--until '$(UNTIL)')

test: install
	$(PY) -m pytest

bench: install
	$(PY) -m bench run --profile full

bench-short: install
	$(PY) -m bench run --profile short

# Every process of a stack of its own killed, frozen 10 s and restarted under a mixed load;
# the fault table and its gates in chaos/reports/<UTC time>-full/report.md (fails when a gate fails)
chaos: install
	$(PY) -m chaos

# The faults make test runs (tests/e2e/test_faults.py), on a stack of their own
chaos-short: install
	$(PY) -m chaos --short

test-unit: install
	$(PY) -m pytest tests/unit

# requirements/*.txt: hash-locked dependencies (per service image, and .venv's) from pyproject.toml
lock:
	bash scripts/lock.sh

proto:
	$(PY) scripts/codegen.py

proto-check:
	$(PY) scripts/codegen.py --check

lint:
	node_modules/.bin/buf lint
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

clean: down
	rm -rf .run

# An access token of a seeded user of the `make up` stack: curl -H "Authorization: Bearer $(make -s token USER=si.a)"
token:
	@$(PY) -m scripts.devstack.identity token $(USER)

# Draft every labelled complaint through a stack of its own and score the drafts (evaluation/README.md)
eval: install
	$(PY) -m evaluation --model $(or $(MODEL),smollm2)
