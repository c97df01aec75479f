# stask: two entry points for a fresh Debian 12 machine.
#   make demo   builds the extension (release) and runs the SQLite demo
#   make test   runs every test (Rust engine tests, PHPUnit with the built extension, stub drift)
SHELL := /bin/bash
PHP ?= php
DEBUG_LIB := $(CURDIR)/target/debug/libstask.so
RELEASE_LIB := $(CURDIR)/target/release/libstask.so
APT_PACKAGES := php8.2-cli php8.2-dev php8.2-sqlite3 php8.2-mysql php8.2-pgsql php8.2-mbstring php8.2-xml libclang-dev clang phpunit php-nesbot-carbon php-laravel-framework php-mockery composer sqlite3 postgresql-client mariadb-client chromium

.PHONY: deps services build release demo test test-rust test-php test-http test-laravel test-browser stubs stubs-check fuzz fuzz-php bench bench-laravel bench-peers clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; \
	fi
	@command -v cargo >/dev/null || { echo "cargo is required (rustup)"; exit 1; }

build: deps
	cargo build --locked

release: deps
	cargo build --release --locked

demo: release
	$(PHP) -d extension=$(RELEASE_LIB) demo/demo.php

test: deps services test-rust build stubs-check test-packaging test-php test-http test-laravel test-browser

test-rust: services
	cargo fmt --all -- --check
	cargo test --locked

# The PHPUnit suite runs unchanged on every backend.
BACKENDS ?= sqlite pgsql mariadb
test-php: build services
	@for b in $(BACKENDS); do \
	  echo "== PHPUnit on $$b"; \
	  STASK_TEST_BACKEND=$$b STASK_LIB=$(DEBUG_LIB) tests/php/run.sh || exit 1; \
	done

# The CMS package inside a real Laravel 8 app (Debian's packages), on every backend.
LARAVEL_CONNECTIONS ?= sqlite pgsql mysql
test-laravel: build services
	@for c in $(LARAVEL_CONNECTIONS); do \
	  echo "== Laravel app on $$c"; \
	  DB_CONNECTION=$$c STASK_EXTENSION=$(DEBUG_LIB) tests/laravel/run.sh || exit 1; \
	done
	@echo "== Laravel app on sqlite, tables without a prefix"
	HARNESS_PREFIX= DB_CONNECTION=sqlite STASK_EXTENSION=$(DEBUG_LIB) tests/laravel/run.sh

# The admin module in headless Debian chromium (playwright-core from npm,
# pinned by tests/browser/package-lock.json), standalone and inside Laravel.
test-browser: build
	@command -v npm >/dev/null || { echo "node and npm are required for the browser tests"; exit 1; }
	STASK_EXTENSION=$(DEBUG_LIB) tests/browser/run.sh

# The REST API over HTTP: the plain front controller under php -S, every backend.
test-http: build services
	@for b in $(BACKENDS); do \
	  echo "== HTTP API on $$b"; \
	  STASK_TEST_BACKEND=$$b STASK_EXTENSION=$(DEBUG_LIB) tests/http/run.sh || exit 1; \
	done

# The extension built through phpize/configure/make (ext/config.m4) and the
# make-dist archive, each loaded with php -n (debug profile: reuses target/).
test-packaging: build
	tests/packaging/run.sh

# PIE's pre-packaged binary for this machine's PHP: dist/php_stask-<version>_php<x.y>-<arch>-linux-<libc>-<nts|zts>.tgz
# and its SHA-256 sums (tools/dist.sh; DIST_PROFILE=debug packs the debug build).
DIST_PROFILE ?= release
dist: deps
	DIST_PROFILE=$(DIST_PROFILE) tools/dist.sh

# The server backends must be up: tests fail, never skip, without them.
services:
	@pg_isready -h 127.0.0.1 -p 5432 >/dev/null || { echo "PostgreSQL is not reachable on 127.0.0.1:5432"; exit 1; }
	@mariadb -h 127.0.0.1 -u root -e 'select 1' test >/dev/null || { echo "MariaDB is not reachable on 127.0.0.1:3306"; exit 1; }

stubs: build
	$(PHP) -d extension=$(DEBUG_LIB) tools/gen-stubs.php > stubs/stask.stub.php

# The committed stubs must match what the built extension declares.
stubs-check: build
	@$(PHP) -d extension=$(DEBUG_LIB) tools/gen-stubs.php > target/stask.stub.php
	@diff -u stubs/stask.stub.php target/stask.stub.php || { echo "stubs/stask.stub.php is stale: run make stubs"; exit 1; }
	@$(PHP) -l stubs/stask.stub.php >/dev/null
	@! grep -rn "ext_php_rs" src/engine/ || { echo "src/engine must not use ext_php_rs"; exit 1; }
	@echo "stubs up to date"

# Fuzzing by hand: the property-based tests of tests/fuzz.rs with
# FUZZ_CASES cases per property (plain `cargo test` runs 256), the whole-API
# property on every backend, then the PHP-level fuzzer (fuzz-php below).
FUZZ_CASES ?= 20000
fuzz: services
	STASK_FUZZ_CASES=$(FUZZ_CASES) STASK_FUZZ_BACKENDS=sqlite,pgsql,mariadb cargo test --locked --test fuzz -- --nocapture
	$(MAKE) fuzz-php

# The PHP-level fuzzer (tools/fuzz.php) by hand: FUZZ_SECONDS per backend,
# each batch in a child process; crashes and findings print their seed.
FUZZ_SECONDS ?= 120
fuzz-php: build services
	@status=0; for b in $(BACKENDS); do \
	  echo "== PHP fuzzer on $$b ($(FUZZ_SECONDS) s)"; \
	  $(PHP) -d extension=$(DEBUG_LIB) tools/fuzz.php --seconds=$(FUZZ_SECONDS) --backend=$$b || status=1; \
	done; exit $$status

bench: release
	$(PHP) -d extension=$(RELEASE_LIB) bench/sqlite.php

# Laravel 8's database queue (queue:work) beside stask, SQLite and PostgreSQL (by hand).
bench-laravel: release services
	STASK_EXTENSION=$(RELEASE_LIB) bench/laravel_queue.sh

# stask beside graphile-worker, Laravel's database and redis queues and raw PDO,
# one table with PASS/FAIL per target of issue 12 (by hand; see bench/peers/run.sh).
bench-peers: release services
	STASK_EXTENSION=$(RELEASE_LIB) bench/peers/run.sh

clean:
	cargo clean
