# Beatdesk: the two commands a newcomer needs are `make demo` and `make test`.
.PHONY: demo test bootstrap bootstrap-system bluesky-network lint typecheck pytest bench

demo: bootstrap  ## Serve the demo (SQLite) at http://127.0.0.1:8000/
	.venv/bin/beatdesk demo

test: bootstrap-system bluesky-network lint typecheck pytest  ## Everything CI runs

bootstrap:
	scripts/bootstrap.sh

bootstrap-system:
	scripts/bootstrap.sh --system

bluesky-network:  ## npm modules for the local Bluesky network (Node 22), used by tests
	scripts/install-bluesky-network.sh

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck:
	.venv/bin/mypy .

pytest:
	scripts/with-postgres.sh .venv/bin/python -m pytest

bench: bootstrap  ## Benchmarks (figures beside their baselines); needs PostgreSQL for the ingest run
	.venv/bin/python bench/ingest_throughput.py
	scripts/with-postgres.sh sh -c '.venv/bin/python bench/ingest_throughput.py --database-url "$$BEATDESK_DATABASE_URL"'
