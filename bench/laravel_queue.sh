#!/bin/sh
# No-op jobs/s through Laravel 8's own `database` queue driver (queue:work,
# 1 and 2 workers) beside stask's no-op tasks/s (sTask::create, then
# sTask::work in 1 and 2 artisan processes), plus enqueue rates, on SQLite
# (WAL, synchronous=NORMAL for both) and PostgreSQL (127.0.0.1:5432, db test),
# in one run, in a copy of the tests/laravel app under /tmp. Run by hand:
#
#   bench/laravel_queue.sh [--runs=3] [--backends=sqlite,pgsql] [--n-sqlite=10000] [--n-pgsql=3000] [--stask-n-sqlite=40000] [--stask-n-pgsql=20000]
#
# Uses target/release/libstask.so (cargo build --release), or $STASK_EXTENSION.
set -e
here="$(cd "$(dirname "$0")" && pwd)"
ext="${STASK_EXTENSION:-$here/../target/release/libstask.so}"
[ -f "$ext" ] || { echo "laravel_queue.sh: $ext not found: cargo build --release first" >&2; exit 2; }
ini="$(mktemp -d)"
trap 'rm -rf "$ini"' EXIT
echo "extension=$(cd "$(dirname "$ext")" && pwd)/$(basename "$ext")" > "$ini/stask.ini"
# Every php process (the driver and each artisan it starts) loads the extension.
export PHP_INI_SCAN_DIR=":$ini"
exec php "$here/laravel/run.php" "$@"
