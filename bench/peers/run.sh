#!/bin/sh
# make bench-peers: stask beside graphile-worker, Laravel's database and redis
# queues and raw PDO, in one run on this machine (see bench/peers/run.php for
# the legs and the PEERS_* settings). Run by hand, never in `make test`:
#
#   make bench-peers                 # builds the release extension first
#   PEERS_RUNS=5 PEERS_BACKLOG_MAX=1000000 bench/peers/run.sh
#
# Installs what is missing (php8.2-redis from apt for Laravel's redis queue;
# graphile-worker from npm, pinned by graphile/package-lock.json), checks that
# PostgreSQL, MariaDB and Redis answer on 127.0.0.1, copies the extension to a
# private temporary folder (so a rebuild during the run changes nothing) and
# removes that folder at the end. Exits non-zero when a leg could not run.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
ext="${STASK_EXTENSION:-$root/target/release/libstask.so}"
die() { echo "bench-peers: $*" >&2; exit 2; }

[ -f "$ext" ] || die "$ext not found: cargo build --release --locked first (make bench-peers does)"
command -v php >/dev/null || die "php is required (make deps)"
if ! php -m | grep -qx redis; then
    echo "bench-peers: installing php8.2-redis (phpredis) for Laravel's redis queue"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq php8.2-redis >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq php8.2-redis >/dev/null; } \
        || die "cannot install php8.2-redis"
    php -m | grep -qx redis || die "php8.2-redis installed but the redis extension is not loaded"
fi
command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are required (graphile-worker)"
if [ ! -f "$here/graphile/node_modules/graphile-worker/package.json" ] \
   || [ "$here/graphile/package-lock.json" -nt "$here/graphile/node_modules/.package-lock.json" ]; then
    (cd "$here/graphile" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in bench/peers/graphile failed"
fi
pg_isready -h 127.0.0.1 -p 5432 >/dev/null || die "PostgreSQL is not reachable on 127.0.0.1:5432"
mariadb -h 127.0.0.1 -u root -e 'select 1' test >/dev/null || die "MariaDB is not reachable on 127.0.0.1:3306"
[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ] || die "Redis is not reachable on 127.0.0.1:6379"

tmp="$(mktemp -d /tmp/stask-peers.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT INT TERM
cp -p "$ext" "$tmp/libstask.so"
# Every temporary file of the legs (SQLite files, Laravel app copies) goes under $tmp.
TMPDIR="$tmp" STASK_LIB="$tmp/libstask.so" php "$here/run.php"
