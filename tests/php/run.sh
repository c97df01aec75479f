#!/bin/sh
# Runs the PHPUnit suite with the built extension loaded.
#   tests/php/run.sh                       # target/debug/libstask.so
#   LIB=target/release/libstask.so tests/php/run.sh --filter Fork
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB=${LIB:-$ROOT/target/debug/libstask.so}
case $LIB in /*) ;; *) LIB=$ROOT/$LIB ;; esac
if [ ! -f "$LIB" ]; then
    echo "run.sh: $LIB not found; build the extension first (cargo build)" >&2
    exit 1
fi
exec php -d extension="$LIB" /usr/bin/phpunit -c "$ROOT/tests/php/phpunit.xml" "$@"
