#!/bin/sh
# Packaging tests: the extension built PHP's way (phpize, configure, make,
# make install) and the release archive of `make dist`, each loaded by a
# php without any ini file (-n). Reuses the cargo target folder of
# `cargo build --locked` (debug profile), so no second cold build.
#   tests/packaging/run.sh
set -eu
root="$(cd "$(dirname "$0")/../.." && pwd)"
php="${PHP:-php}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
version="$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$root/Cargo.toml" | head -n 1)"
api="$("$php" -n -i | sed -n 's/^PHP Extension => //p')"
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# Loads $1 with php -n and checks what it reports about itself.
check_loads() {
  so="$1"; what="$2"
  out="$("$php" -n -d "extension=$so" -r '
    $i = \Seiger\sTask\Facades\sTask::buildInfo();
    echo \Seiger\sTask\Facades\sTask::version(), "|", $i["php_api"], "|", implode(",", $i["drivers"]), "|", $i["git_commit"], "|", $i["build_date"], "\n";')" \
    || fail "$what: php -n cannot load $so"
  case "$out" in
    "$version|$api|sqlite,mysql,pgsql|"*) ;;
    *) fail "$what: reports '$out', expected version $version, PHP API $api, three drivers" ;;
  esac
  ri="$("$php" -n -d "extension=$so" --ri stask)" || fail "$what: php --ri stask"
  for row in "version => $version" "git commit => " "build date => " "built for PHP => " "database drivers => sqlite" "stask.dsn => no value => no value"; do
    printf '%s\n' "$ri" | grep -qF "$row" || fail "$what: php --ri stask has no '$row' row:
$ri"
  done
  # phpinfo's ini table: local and master values, secrets masked.
  table="$("$php" -n -d "extension=$so" -d stask.lease_seconds=30 -d stask.api_token=0123456789abcdef0123 \
    -r 'ini_set("stask.lease_seconds", "45"); phpinfo(INFO_MODULES);')"
  printf '%s\n' "$table" | grep -qF "stask.lease_seconds => 45 => 30" || fail "$what: phpinfo does not show stask.lease_seconds local 45, master 30"
  printf '%s\n' "$table" | grep -qF "stask.api_token => (set, hidden) => (set, hidden)" || fail "$what: phpinfo shows the API token"
  printf '%s\n' "$table" | grep -qF "0123456789abcdef0123" && fail "$what: the API token appears in phpinfo"
  pass "$what loads with php -n: $out"
}

# 0. The package's version range agrees with php/composer.json and Cargo.toml.
"$php" -n "$root/tests/packaging/version-range.php" || fail "version range"

# 1. phpize && configure && make && make install, on a copy of ext/ (so
#    nothing is generated in the working tree, where someone may be
#    building by hand) that STASK_CRATE_DIR points back at the crate.
echo "== phpize build"
mkdir "$work/ext" "$work/build"
cp "$root/ext/config.m4" "$root/ext/Makefile.frag" "$work/ext/"
(cd "$work/ext" && phpize >"$work/phpize.log" 2>&1) || { cat "$work/phpize.log"; fail "phpize"; }
export STASK_CRATE_DIR="$root"
(cd "$work/build" && "$work/ext/configure" --enable-stask --enable-stask-debug >"$work/configure.log" 2>&1) \
  || { cat "$work/configure.log"; fail "configure"; }
grep -q "checking cargo version... " "$work/configure.log" || fail "configure did not check cargo's version"
(cd "$work/build" && make >"$work/make.log" 2>&1) || { cat "$work/make.log"; fail "make"; }
(cd "$work/build" && make install INSTALL_ROOT="$work/root" >"$work/install.log" 2>&1) || { cat "$work/install.log"; fail "make install"; }
extdir="$("$php" -n -r 'echo ini_get("extension_dir");')"
installed="$work/root$extdir/stask.so"
[ -f "$installed" ] || fail "make install did not put stask.so into $extdir (under INSTALL_ROOT): $(find "$work/root" -type f)"
pass "make install: $extdir/stask.so"
check_loads "$installed" "phpize build"

# configure says what to install when cargo is missing or too old.
mkdir "$work/build2" "$work/bin"
if (cd "$work/build2" && "$work/ext/configure" --enable-stask --with-stask-cargo="$work/bin/no-cargo" >"$work/c2.log" 2>&1); then
  fail "configure succeeded without cargo"
fi
grep -q "rustup" "$work/c2.log" || fail "configure without cargo does not say how to install it: $(tail -5 "$work/c2.log")"
printf '#!/bin/sh\necho "cargo 1.70.0 (old)"\n' > "$work/bin/cargo"
chmod +x "$work/bin/cargo"
if (cd "$work/build2" && "$work/ext/configure" --enable-stask --with-stask-cargo="$work/bin/cargo" >"$work/c3.log" 2>&1); then
  fail "configure accepted cargo 1.70"
fi
grep -q "too old" "$work/c3.log" || fail "configure with an old cargo does not say so: $(tail -5 "$work/c3.log")"
pass "configure names what to install (no cargo, cargo 1.70)"

# 2. make dist's archive, unpacked into an empty folder and loaded with php -n.
echo "== dist archive"
DIST_PROFILE=debug DIST_DIR="$work/dist" "$root/tools/dist.sh" >"$work/dist.log" 2>&1 || { cat "$work/dist.log"; fail "tools/dist.sh"; }
ts="$("$php" -n -r 'echo PHP_ZTS ? "zts" : "nts";')"
mm="$("$php" -n -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;')"
archive="$(cd "$work/dist" && ls php_stask-*.tgz)"
case "$archive" in
  "php_stask-${version}_php${mm}-"*"-linux-glibc-${ts}.tgz") ;;
  *) fail "archive name $archive is not PIE's php_stask-${version}_php${mm}-<arch>-linux-glibc-${ts}.tgz" ;;
esac
(cd "$work/dist" && sha256sum -c SHA256SUMS >/dev/null && sha256sum -c "$archive.sha256" >/dev/null) || fail "SHA-256 sums do not match"
[ "$(tar -tzf "$work/dist/$archive")" = "stask.so" ] || fail "the archive holds $(tar -tzf "$work/dist/$archive"), not stask.so at its root"
mkdir "$work/clean"
tar -xzf "$work/dist/$archive" -C "$work/clean"
check_loads "$work/clean/stask.so" "archive $archive"
echo "packaging tests passed"
