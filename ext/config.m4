dnl config.m4 for stask, the sTask background-task engine (Rust).
dnl
dnl The extension is a Rust crate (../Cargo.toml); this file lets PHP's own
dnl build steps drive it, as PECL and PIE build extensions:
dnl
dnl   cd ext && phpize && ./configure --enable-stask && make && sudo make install
dnl
dnl --enable-stask is the default (PIE runs ./configure without options).
dnl configure checks cargo (and its version) and libclang, which the build
dnl needs; make runs `cargo build --release --locked` for the PHP that
dnl phpize/php-config name and copies the library to modules/stask.so;
dnl make install copies it into that PHP's extension folder.

PHP_ARG_ENABLE([stask],
  [whether to enable the stask extension],
  [AS_HELP_STRING([--enable-stask],
    [Enable stask, the sTask background-task engine (built with Rust's cargo; the default)])],
  [yes])

PHP_ARG_ENABLE([stask-debug],
  [whether to build stask with cargo's debug profile],
  [AS_HELP_STRING([--enable-stask-debug],
    [stask: build cargo's debug profile instead of release (for development and tests)])],
  [no],
  [no])

PHP_ARG_WITH([stask-cargo],
  [for the cargo to build stask with],
  [AS_HELP_STRING([--with-stask-cargo=PATH],
    [stask: the cargo program (default: cargo on PATH, else ~/.cargo/bin/cargo)])],
  [no],
  [no])

if test "$PHP_STASK" != "no"; then
  dnl The oldest Rust the locked dependencies build with (sqlx 0.9).
  STASK_MIN_RUST=1.94

  AC_MSG_CHECKING([for cargo])
  STASK_CARGO=""
  if test "$PHP_STASK_CARGO" != "no" && test "$PHP_STASK_CARGO" != "yes"; then
    STASK_CARGO="$PHP_STASK_CARGO"
  elif command -v cargo >/dev/null 2>&1; then
    STASK_CARGO=`command -v cargo`
  elif test -n "$HOME" && test -x "$HOME/.cargo/bin/cargo"; then
    STASK_CARGO="$HOME/.cargo/bin/cargo"
  fi
  if test -z "$STASK_CARGO" || test ! -x "$STASK_CARGO"; then
    AC_MSG_RESULT([not found])
    AC_MSG_ERROR([stask is written in Rust and needs cargo $STASK_MIN_RUST or newer to build.
Install Rust with rustup:  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh
then open a new shell (or run: . "\$HOME/.cargo/env") and run configure again,
or pass --with-stask-cargo=/path/to/cargo.
Without a compiler, use a pre-built stask.so instead (see the README: install from an archive).])
  fi
  AC_MSG_RESULT([$STASK_CARGO])

  AC_MSG_CHECKING([cargo version])
  stask_cargo_version=`"$STASK_CARGO" --version 2>/dev/null | $AWK '{print $2}'`
  AC_MSG_RESULT([$stask_cargo_version])
  dnl Major and minor as numbers (non-numbers count as 0, so too old).
  stask_major=`echo "$stask_cargo_version" | cut -d. -f1 | tr -cd '0-9'`
  stask_minor=`echo "$stask_cargo_version" | cut -d. -f2 | tr -cd '0-9'`
  stask_need_major=`echo "$STASK_MIN_RUST" | cut -d. -f1`
  stask_need_minor=`echo "$STASK_MIN_RUST" | cut -d. -f2`
  stask_version_ok=no
  if test "${stask_major:-0}" -gt "$stask_need_major" || \
     { test "${stask_major:-0}" -eq "$stask_need_major" && test "${stask_minor:-0}" -ge "$stask_need_minor"; }; then
    stask_version_ok=yes
  fi
  if test "$stask_version_ok" != "yes"; then
    AC_MSG_ERROR([cargo $stask_cargo_version is too old: stask needs Rust $STASK_MIN_RUST or newer.
Update it with:  rustup update stable   (or install rustup from https://rustup.rs if this cargo came from your distribution)])
  fi

  dnl bindgen (ext-php-rs) reads PHP's headers through libclang.
  AC_MSG_CHECKING([for libclang])
  stask_libclang=""
  if test -n "$LIBCLANG_PATH"; then
    stask_libclang="$LIBCLANG_PATH"
  else
    for stask_candidate in /usr/lib/llvm-*/lib/libclang*.so* /usr/lib64/libclang*.so* /usr/lib/libclang*.so* \
        /usr/lib/*-linux-gnu/libclang*.so* /usr/local/lib/libclang*.so* /usr/local/opt/llvm/lib/libclang.dylib \
        /opt/homebrew/opt/llvm/lib/libclang.dylib /Library/Developer/CommandLineTools/usr/lib/libclang.dylib; do
      if test -f "$stask_candidate"; then
        stask_libclang="$stask_candidate"
        break
      fi
    done
  fi
  if test -z "$stask_libclang" && command -v llvm-config >/dev/null 2>&1; then
    stask_libclang=`llvm-config --libdir 2>/dev/null`
  fi
  if test -z "$stask_libclang"; then
    AC_MSG_RESULT([not found])
    AC_MSG_ERROR([stask's build reads PHP's headers with libclang, which was not found.
Install it:  apt-get install libclang-dev   (Debian, Ubuntu)
             dnf install clang-devel        (Fedora, RHEL)
             apk add clang-dev              (Alpine)
or set LIBCLANG_PATH to the folder holding libclang.so.])
  fi
  AC_MSG_RESULT([$stask_libclang])

  if test "$PHP_STASK_DEBUG" != "no"; then
    STASK_CARGO_PROFILE=debug
    STASK_CARGO_PROFILE_FLAG=""
  else
    STASK_CARGO_PROFILE=release
    STASK_CARGO_PROFILE_FLAG="--release"
  fi

  dnl The crate is the folder above this one (STASK_CRATE_DIR at configure
  dnl time names another); its cargo target folder is CARGO_TARGET_DIR at
  dnl configure time, else <crate>/target.
  if test -z "$STASK_CRATE_DIR"; then
    STASK_CRATE_DIR=`cd "$abs_srcdir/.." && pwd`
  fi
  if test ! -f "$STASK_CRATE_DIR/Cargo.toml"; then
    AC_MSG_ERROR([stask: $STASK_CRATE_DIR/Cargo.toml not found (run phpize in the ext/ folder of the stask sources)])
  fi
  STASK_TARGET_DIR="${CARGO_TARGET_DIR:-$STASK_CRATE_DIR/target}"

  dnl ext-php-rs finds PHP through $PHP and $PHP_CONFIG, else php and
  dnl php-config on PATH. Set them only when phpize's PHP is another one:
  dnl a changed value makes cargo rebuild ext-php-rs.
  STASK_PHP_ENV=""
  stask_resolve() {
    stask_p=`command -v "$1" 2>/dev/null`
    test -n "$stask_p" && readlink -f "$stask_p" 2>/dev/null
  }
  stask_php_config=`stask_resolve "$PHP_CONFIG"`
  if test -z "$stask_php_config" || test "$stask_php_config" != "`stask_resolve php-config`" || \
     test "`stask_resolve "$PHP_EXECUTABLE"`" != "`stask_resolve php`"; then
    STASK_PHP_ENV="PHP_CONFIG=${stask_php_config:-$PHP_CONFIG} PHP=$PHP_EXECUTABLE"
  fi
  stask_php_version=`$PHP_CONFIG --version 2>/dev/null`
  AC_MSG_CHECKING([which PHP stask is built for])
  AC_MSG_RESULT([$PHP_EXECUTABLE $stask_php_version, cargo profile $STASK_CARGO_PROFILE])

  dnl No C sources: the module is cargo's library, copied to modules/.
  PHP_MODULES="$PHP_MODULES \$(phplibdir)/stask.so"
  PHP_ADD_BUILD_DIR([modules])
  PHP_SUBST(STASK_CARGO)
  PHP_SUBST(STASK_CARGO_PROFILE)
  PHP_SUBST(STASK_CARGO_PROFILE_FLAG)
  PHP_SUBST(STASK_CRATE_DIR)
  PHP_SUBST(STASK_TARGET_DIR)
  PHP_SUBST(STASK_PHP_ENV)
  PHP_ADD_MAKEFILE_FRAGMENT([$abs_srcdir/Makefile.frag])
fi
