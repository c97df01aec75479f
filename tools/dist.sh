#!/bin/sh
# Builds the release archive of the stask extension for the PHP at hand,
# named the way PIE looks for pre-packaged binaries:
#
#   dist/php_stask-<version>_php<major.minor>-<arch>-<os>-<libc>-<nts|zts>.tgz
#
# with stask.so at the root of the archive, plus dist/SHA256SUMS (every
# archive in dist/) and <archive>.sha256 beside it.
#
#   tools/dist.sh                      # cargo release build, this machine's PHP
#   DIST_PROFILE=debug tools/dist.sh   # the debug build (tests: no second cold build)
#   PHP_CONFIG=/usr/bin/php-config8.3 PHP=/usr/bin/php8.3 tools/dist.sh
#
# The library is loaded with `php -n` before it is packed: an archive that
# PHP cannot load, or that reports another version, is never written.
set -eu

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
profile="${DIST_PROFILE:-release}"
php="${PHP:-php}"
out="${DIST_DIR:-$root/dist}"

version="$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)"
[ -n "$version" ] || { echo "dist: no version in Cargo.toml" >&2; exit 1; }

case "$profile" in
  release) cargo build --locked --lib --release ;;
  debug) cargo build --locked --lib ;;
  *) echo "dist: DIST_PROFILE must be release or debug, got $profile" >&2; exit 2 ;;
esac
target_dir="${CARGO_TARGET_DIR:-$root/target}"
lib="$target_dir/$profile/libstask.so"
[ -f "$lib" ] || { echo "dist: $lib was not built" >&2; exit 1; }

# What PIE matches: PHP's major.minor, thread safety and debug mode, the
# architecture as PIE names it, the OS family and the C library.
php_mm="$("$php" -n -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;')"
ts="$("$php" -n -r 'echo PHP_ZTS ? "zts" : "nts";')"
debug="$("$php" -n -r 'echo PHP_DEBUG ? "-debug" : "";')"
os="$("$php" -n -r 'echo strtolower(PHP_OS_FAMILY);')"
case "$(uname -m)" in
  x86_64|amd64) arch=x86_64 ;;
  aarch64|arm64) arch=arm64 ;;
  i?86|x86) arch=x86 ;;
  *) arch="$(uname -m)" ;;
esac
if ldd --version 2>&1 | grep -qi musl; then libc=musl; else libc=glibc; fi
name="php_stask-${version}_php${php_mm}-${arch}-${os}-${libc}${debug}-${ts}"

# Load it as the archive will be used: no php.ini, only this extension.
loaded="$("$php" -n -d "extension=$lib" -r 'echo \Seiger\sTask\Facades\sTask::version();')" || {
  echo "dist: $php cannot load $lib" >&2
  exit 1
}
[ "$loaded" = "$version" ] || { echo "dist: $lib reports version $loaded, Cargo.toml says $version" >&2; exit 1; }

mkdir -p "$out"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp "$lib" "$stage/stask.so"
chmod 0755 "$stage/stask.so"
if [ "$profile" = release ] && command -v strip >/dev/null 2>&1; then
  strip --strip-unneeded "$stage/stask.so"
fi
# The same bytes for the same library: fixed order, owner and time.
mtime="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" -C "$stage" -cf - stask.so \
  | gzip -n > "$out/$name.tgz.part"
mv "$out/$name.tgz.part" "$out/$name.tgz"

cd "$out"
sha256sum "$name.tgz" > "$name.tgz.sha256"
sha256sum php_stask-*.tgz > SHA256SUMS
echo "dist: $out/$name.tgz ($profile build of stask $version for PHP $php_mm $ts)"
cat "$name.tgz.sha256"
