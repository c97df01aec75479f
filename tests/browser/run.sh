#!/bin/sh
# Browser tests of the admin module (headless Debian chromium + playwright-core).
#
# Builds nothing: needs target/debug/libstask.so (cargo build) or $STASK_EXTENSION,
# node, and chromium. For each host it starts, on 127.0.0.1 and a free port,
# with a temporary SQLite database and the example workers (examples/workers)
# registered:
#   standalone  php -S php/public/index.php (bearer token) + an sTask::work process
#   laravel     the Laravel harness app (tests/laravel, copied to the temp folder)
#               under php -S, a manager with the stask permission (session + CSRF),
#               + php artisan stask:work
# then runs admin.test.js at 1280x800 and at 390x844 (and, for the standalone
# host, standalone.test.js: token refusal, assets, limits), and stops what it started.
# Screenshots and downloads: tests/browser/artifacts/<host>-<viewport>-*.
#   tests/browser/run.sh                        # both hosts
#   STASK_HOSTS=standalone tests/browser/run.sh # one host
#   KEEP=1 tests/browser/run.sh                 # keep the temp folders (databases, logs)
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
export STASK_ARTIFACTS="$here/artifacts"
mkdir -p "$STASK_ARTIFACTS"

tmp=""
server_pid=""
worker_pid=""
stop() {
    for pid in $worker_pid $server_pid; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $worker_pid $server_pid; do
        wait "$pid" 2>/dev/null || true
    done
    worker_pid=""
    server_pid=""
}
cleanup() {
    status=$?
    stop
    if [ -n "$tmp" ]; then
        if [ "$status" -ne 0 ]; then
            echo "--- server log (last lines)"; tail -n 30 "$tmp/server.log" 2>/dev/null || true
            echo "--- worker log (last lines)"; tail -n 30 "$tmp/worker.log" 2>/dev/null || true
        fi
        if [ "${KEEP:-}" = "1" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
    fi
    exit "$status"
}
trap cleanup EXIT INT TERM

free_port() {
    php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); $n = stream_socket_get_name($s, false); echo substr($n, strrpos($n, ":") + 1);'
}

# Waits until $1 answers with HTTP 200 (a header may be given as $2).
wait_http() {
    i=0
    until URL="$1" HDR="${2:-}" php -r 'exit(@file_get_contents(getenv("URL"), false, stream_context_create(["http" => ["header" => getenv("HDR"), "ignore_errors" => true]])) !== false && strpos($http_response_header[0], " 200 ") !== false ? 0 : 1);'; do
        i=$((i + 1))
        [ "$i" -lt 100 ] || { echo "run.sh: the server did not start" >&2; exit 1; }
        sleep 0.1
    done
    kill -0 "$worker_pid" 2>/dev/null || { echo "run.sh: the worker process died" >&2; exit 1; }
}

run_standalone() {
    mkdir -p "$tmp/storage/stask"
    export STASK_DSN="sqlite://$tmp/storage/stask/stask.sqlite"
    export STASK_STORAGE="$tmp/storage/stask"
    export STASK_BOOTSTRAP="$here/bootstrap.php"
    export STASK_PROGRESS_INTERVAL=0.1
    export STASK_API_TOKEN="$(php -r 'echo bin2hex(random_bytes(16));')"
    php "$here/seed.php" > "$tmp/seed.log" 2>&1 || { cat "$tmp/seed.log" >&2; exit 1; }
    port="$(free_port)"
    export STASK_URL="http://127.0.0.1:$port" STASK_PAGE="http://127.0.0.1:$port/"
    php -S "127.0.0.1:$port" "$root/php/public/index.php" > "$tmp/server.log" 2>&1 &
    server_pid=$!
    php "$here/work.php" > "$tmp/worker.log" 2>&1 &
    worker_pid=$!
    wait_http "$STASK_URL/stask/health" "Authorization: Bearer $STASK_API_TOKEN"
}

run_laravel() {
    app="$tmp/app"
    mkdir -p "$app"
    for folder in app bootstrap database public resources routes shims config; do
        cp -R "$root/tests/laravel/$folder" "$app/$folder"
    done
    cp "$root/tests/laravel/artisan" "$app/artisan"
    rm -rf "$app/public/assets" "$app/bootstrap/cache" "$app"/database/*.sqlite
    sh "$root/tests/laravel/setup.sh" "$app"
    touch "$app/database/database.sqlite"
    # The copy (only) also autoloads the example workers.
    echo "require_once '$root/examples/autoload.php';" >> "$app/bootstrap/autoload.php"
    export STASK_PHP_DIR="$root/php" DB_CONNECTION=sqlite DB_DATABASE="$app/database/database.sqlite" \
        APP_ENV=local LOG_CHANNEL=single EVO_PERMISSIONS=stask EVO_USER_ID=1 STASK_PROGRESS_INTERVAL=0.1
    (cd "$app" && php artisan migrate --force > "$tmp/seed.log" 2>&1 \
        && php -r 'require "bootstrap/autoload.php"; $app = require "bootstrap/app.php";
            $app->make(Illuminate\Contracts\Console\Kernel::class)->bootstrap();
            foreach (["Examples\Workers\ProductWorker", "Examples\Workers\EmailCampaignWorker", "Examples\Workers\ProductSyncWorker"] as $c) {
                Seiger\sTask\Facades\sTask::registerWorker($c);
            }
            Seiger\sTask\Facades\sTask::activateWorker("product");' >> "$tmp/seed.log" 2>&1) \
        || { cat "$tmp/seed.log" >&2; exit 1; }
    port="$(free_port)"
    export STASK_URL="http://127.0.0.1:$port" STASK_PAGE="http://127.0.0.1:$port/stask"
    (cd "$app" && exec php -S "127.0.0.1:$port" -t public public/index.php) > "$tmp/server.log" 2>&1 &
    server_pid=$!
    (cd "$app" && exec php artisan stask:work --sleep=0.2) > "$tmp/worker.log" 2>&1 &
    worker_pid=$!
    wait_http "$STASK_PAGE"
}

for host in ${STASK_HOSTS:-standalone laravel}; do
    tmp="$(mktemp -d /tmp/stask-browser-XXXXXX)"
    mkdir -p "$tmp/ini"
    echo "extension=$ext" > "$tmp/ini/stask.ini"
    export PHP_INI_SCAN_DIR=":$tmp/ini"
    export STASK_HOST="$host"
    echo "# host: $host"
    case "$host" in
        standalone) run_standalone ;;
        laravel) run_laravel ;;
        *) echo "run.sh: unknown host $host (standalone, laravel)" >&2; exit 2 ;;
    esac
    files="admin.test.js"
    [ "$host" = standalone ] && files="admin.test.js standalone.test.js"
    (cd "$here" && node --test --test-concurrency=1 "$@" $files)
    stop
    if [ "${KEEP:-}" = "1" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
    tmp=""
done
