#!/bin/sh
# Runs the Laravel harness tests. Every php process (phpunit, the artisan
# processes the tests start and the ones artisan starts itself, such as
# schedule:run's stask:worker) loads the extension through PHP_INI_SCAN_DIR.
#   DB_CONNECTION=mysql ./run.sh     (or pgsql; default sqlite)
#   ./run.sh --filter WorkerTest
set -e
here="$(cd "$(dirname "$0")" && pwd)"
ext="${STASK_EXTENSION:-$here/../../target/debug/libstask.so}"
[ -f "$ext" ] || { echo "run.sh: $ext not found: cargo build first" >&2; exit 2; }
ini="$(mktemp -d)"
trap 'rm -rf "$ini"' EXIT
echo "extension=$(cd "$(dirname "$ext")" && pwd)/$(basename "$ext")" > "$ini/stask.ini"
export PHP_INI_SCAN_DIR=":$ini"
"$here/setup.sh"
cd "$here"
/usr/bin/phpunit -c phpunit.xml "$@"
