#!/bin/sh
# Creates the writable folders of the harness app (in place, or in the
# folder given as $1, e.g. a per-test copy).
set -e
root="${1:-$(dirname "$0")}"
mkdir -p "$root/storage/framework/views" "$root/storage/framework/cache/data" \
         "$root/storage/framework/sessions" "$root/storage/logs" "$root/storage/app" \
         "$root/bootstrap/cache"
