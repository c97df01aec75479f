#!/bin/sh
# HTTP tests of every API route through the plain front controller
# (php/public/index.php) under `php -S 127.0.0.1:<free port>`, with real
# requests (PHP streams and raw sockets), a worker process that runs the
# tasks, and the backend of STASK_TEST_BACKEND (sqlite | pgsql | mariadb).
#
#   tests/http/run.sh                              # sqlite, target/debug/libstask.so
#   STASK_TEST_BACKEND=pgsql tests/http/run.sh --filter Upload
#   KEEP=1 tests/http/run.sh                       # keep the temp folder (database, logs)
#
# Every run is isolated: a temp storage folder, and on pgsql/mariadb a unique
# table prefix (http_<random>_) whose tables are dropped at the end, so runs
# may go on beside other test suites. The tests start their own extra
# servers (no token, small body limit) through HttpTestCase::startServer().
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
ext="${STASK_EXTENSION:-$root/target/debug/libstask.so}"
case "$ext" in /*) ;; *) ext="$root/$ext" ;; esac
[ -f "$ext" ] || { echo "run.sh: $ext not found: cargo build first" >&2; exit 2; }
backend="${STASK_TEST_BACKEND:-sqlite}"

tmp="$(mktemp -d /tmp/stask-http-XXXXXX)"
server_pid=""
worker_pid=""
cleanup() {
    status=$?
    for pid in $worker_pid $server_pid; do kill "$pid" 2>/dev/null || true; done
    for pid in $worker_pid $server_pid; do wait "$pid" 2>/dev/null || true; done
    if [ "$status" -ne 0 ]; then
        echo "--- server log (last lines)"; grep -v -E " (Accepted|Closing)$" "$tmp/server.log" 2>/dev/null | tail -n 40 || true
        echo "--- worker log (last lines)"; tail -n 20 "$tmp/worker.log" 2>/dev/null || true
    fi
    php "$here/tables.php" drop >/dev/null 2>&1 || true
    if [ "${KEEP:-}" = "1" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$tmp/ini" "$tmp/storage/stask" "$tmp/base/vendor/composer"
echo "extension=$ext" > "$tmp/ini/stask.ini"
export PHP_INI_SCAN_DIR=":$tmp/ini"

case "$backend" in
    sqlite) export STASK_DSN="sqlite://$tmp/storage/stask/stask.sqlite" STASK_TABLE_PREFIX="" ;;
    pgsql) export STASK_DSN="postgres://postgres@127.0.0.1:5432/test" ;;
    mariadb) export STASK_DSN="mysql://root@127.0.0.1:3306/test" ;;
    *) echo "run.sh: STASK_TEST_BACKEND must be sqlite, pgsql or mariadb" >&2; exit 2 ;;
esac
[ "$backend" = sqlite ] || export STASK_TABLE_PREFIX="http_$(php -r 'echo bin2hex(random_bytes(4));')_"
export STASK_TEST_BACKEND="$backend"
export STASK_STORAGE="$tmp/storage/stask"
# Discovery reads a Composer PSR-4 map under the base path: the example workers.
export STASK_BASE_PATH="$tmp/base"
printf "<?php\nreturn array('Examples\\\\\\\\Workers\\\\\\\\' => array('%s'));\n" "$root/examples/workers" \
    > "$tmp/base/vendor/composer/autoload_psr4.php"
export STASK_BOOTSTRAP="$here/server.php"
export STASK_PROGRESS_INTERVAL=0.1
export STASK_RETRY_BASE_DELAY=0
export STASK_API_TOKEN="$(php -r 'echo bin2hex(random_bytes(16));')"
# Small upload limits, so the 413s need small requests; the body limit stays 1M.
export STASK_UPLOAD_MAX_SIZE=64K STASK_UPLOAD_CHUNK_SIZE=1K STASK_UPLOAD_MAX_CHUNKS=100
export STASK_HTTP_TMP="$tmp" STASK_HTTP_ROOT="$root"

php "$here/tables.php" seed > "$tmp/seed.log" 2>&1 || { cat "$tmp/seed.log" >&2; exit 1; }

port="$(php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); $n = stream_socket_get_name($s, false); echo substr($n, strrpos($n, ":") + 1);')"
export STASK_HTTP_URL="http://127.0.0.1:$port"
php -S "127.0.0.1:$port" "$root/php/public/index.php" > "$tmp/server.log" 2>&1 &
server_pid=$!
php "$here/work.php" > "$tmp/worker.log" 2>&1 &
worker_pid=$!

i=0
until php -r 'exit(@file_get_contents(getenv("STASK_HTTP_URL") . "/stask/health", false, stream_context_create(["http" => ["header" => "Authorization: Bearer " . getenv("STASK_API_TOKEN"), "ignore_errors" => true]])) !== false && strpos($http_response_header[0], " 200 ") !== false ? 0 : 1);'; do
    i=$((i + 1))
    [ "$i" -lt 100 ] || { echo "run.sh: the server did not start" >&2; exit 1; }
    kill -0 "$server_pid" 2>/dev/null || { echo "run.sh: the server died" >&2; exit 1; }
    sleep 0.1
done

echo "# backend: $backend, server: $STASK_HTTP_URL"
php /usr/bin/phpunit -c "$here/phpunit.xml" "$@"
