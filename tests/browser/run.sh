#!/bin/sh
# Browser tests of the admin module (headless Debian chromium + playwright-core).
#
# Builds nothing: needs target/debug/libstask.so (cargo build) or $STASK_EXTENSION.
# Starts, on 127.0.0.1 and a free port, the standalone front controller
# (php -S php/public/index.php) with a temporary SQLite database and storage
# folder, the example workers (examples/workers) registered, and an sTask::work
# process; runs tests/browser/admin.test.js at 1280x800 and at 390x844; stops
# everything it started. Screenshots and downloads: tests/browser/artifacts/.
#   tests/browser/run.sh                  # all tests
#   KEEP=1 tests/browser/run.sh           # keep the temp folder (database, logs)
#   tests/browser/run.sh --test-name-pattern schedule
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
ext="${STASK_EXTENSION:-$root/target/debug/libstask.so}"
[ -f "$ext" ] || { echo "run.sh: $ext not found: cargo build first" >&2; exit 2; }
command -v node >/dev/null || { echo "run.sh: node is required" >&2; exit 2; }
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] || { echo "run.sh: $CHROMIUM not found (apt-get install chromium)" >&2; exit 2; }
if [ ! -d "$here/node_modules/playwright-core" ]; then
    (cd "$here" && npm ci --no-audit --no-fund --silent)
fi

tmp="$(mktemp -d /tmp/stask-browser-XXXXXX)"
server_pid=""
worker_pid=""
cleanup() {
    status=$?
    for pid in $worker_pid $server_pid; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $worker_pid $server_pid; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "$status" -ne 0 ]; then
        echo "--- server log (last lines)"; tail -n 30 "$tmp/server.log" 2>/dev/null || true
        echo "--- worker log (last lines)"; tail -n 30 "$tmp/worker.log" 2>/dev/null || true
    fi
    if [ "${KEEP:-}" = "1" ]; then
        echo "kept $tmp"
    else
        rm -rf "$tmp"
    fi
    exit "$status"
}
trap cleanup EXIT INT TERM

mkdir -p "$tmp/storage/stask" "$tmp/ini"
echo "extension=$ext" > "$tmp/ini/stask.ini"
export PHP_INI_SCAN_DIR=":$tmp/ini"
export STASK_DSN="sqlite://$tmp/storage/stask/stask.sqlite"
export STASK_STORAGE="$tmp/storage/stask"
export STASK_BOOTSTRAP="$here/bootstrap.php"
export STASK_PROGRESS_INTERVAL=0.1
export STASK_API_TOKEN="$(php -r 'echo bin2hex(random_bytes(16));')"
export STASK_ARTIFACTS="$here/artifacts"
mkdir -p "$STASK_ARTIFACTS"

php "$here/seed.php" > "$tmp/seed.log" 2>&1 || { cat "$tmp/seed.log" >&2; exit 1; }

port="$(php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); $n = stream_socket_get_name($s, false); echo substr($n, strrpos($n, ":") + 1);')"
export STASK_URL="http://127.0.0.1:$port"
php -S "127.0.0.1:$port" "$root/php/public/index.php" > "$tmp/server.log" 2>&1 &
server_pid=$!
php "$here/work.php" > "$tmp/worker.log" 2>&1 &
worker_pid=$!

i=0
until php -r 'exit(@file_get_contents(getenv("STASK_URL") . "/stask/health", false, stream_context_create(["http" => ["header" => "Authorization: Bearer " . getenv("STASK_API_TOKEN"), "ignore_errors" => true]])) === false ? 1 : 0);'; do
    i=$((i + 1))
    [ "$i" -lt 50 ] || { echo "run.sh: the server did not start" >&2; exit 1; }
    sleep 0.1
done
kill -0 "$worker_pid" 2>/dev/null || { echo "run.sh: the worker process died" >&2; exit 1; }

cd "$here"
node --test --test-concurrency=1 "$@" admin.test.js
