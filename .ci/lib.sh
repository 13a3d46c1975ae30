# Shared by .ci/start and .ci/test: installs what is missing, and only what is missing.
# Each step checks for the exact version it needs first, because the cargo tools take
# 10–35 minutes to build on a 2-core machine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$ROOT/end2end/node_modules/.bin:$PATH"
# Tools and browsers come only from the registries; never let an installer download a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

CARGO_LEPTOS_VERSION="0.3.10"
# wasm-bindgen-cli must equal the wasm-bindgen crate that Cargo.lock pins.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' Cargo.lock)"

say() { printf '==> %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
APT_UPDATED=""
apt_install() {
  if [ -z "$APT_UPDATED" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

ensure_wasm_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown || {
    say "adding the wasm32-unknown-unknown target"; rustup target add wasm32-unknown-unknown; }
}

# The standard library's source: the release widget rebuilds std for size (.ci/build-widget).
ensure_rust_src() {
  [ -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library/std" ] || {
    say "adding the rust-src component"; rustup component add rust-src; }
}

ensure_wasm_bindgen() {
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 10 minutes)"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
  fi
}

ensure_cargo_leptos() {
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 35 minutes)"
    cargo install "cargo-leptos@$CARGO_LEPTOS_VERSION" --locked --features no_downloads --force
  fi
}

ensure_postgres_binaries() {
  if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    say "installing the Postgres server binaries"; apt_install postgresql
  fi
  command -v psql >/dev/null || apt_install postgresql-client
}

ensure_node_deps() {
  command -v npm >/dev/null || { say "installing Node.js"; apt_install nodejs npm; }
  if [ ! -x end2end/node_modules/.bin/playwright ] || [ ! -x end2end/node_modules/.bin/wasm-opt ] \
     || [ ! -x end2end/node_modules/.bin/esbuild ] \
     || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "installing the end2end Node packages"
    (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] || { say "installing Debian's chromium"; apt_install chromium; }
}

# An S3-compatible server for the attachment-store tests (tests/it/attachment_store.rs): moto
# from PyPI, in its own virtualenv (Debian's Python refuses system-wide pip installs). Not
# fatal: without it those tests say loudly that they were skipped.
MOTO_VERSION="5.2.5"
MOTO_VENV="${MOTO_VENV:-$HOME/.cache/switchboard-moto}"
ensure_moto() {
  if [ -x "$MOTO_VENV/bin/moto_server" ] && [ "$("$MOTO_VENV/bin/python" -c \
       'from importlib.metadata import version; print(version("moto"))' 2>/dev/null)" = "$MOTO_VERSION" ]; then
    return 0
  fi
  command -v python3 >/dev/null || apt_install python3 || true
  python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv || true
  say "installing moto $MOTO_VERSION (S3-compatible test server) into $MOTO_VENV"
  if ! { python3 -m venv "$MOTO_VENV" \
         && "$MOTO_VENV/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION"; }; then
    say "WARNING: moto could not be installed; the S3 attachment-store tests will be SKIPPED"
  fi
}

# Everything, the slow cargo installs first so a new machine starts on them at once.
ensure_all() {
  ensure_wasm_target
  ensure_wasm_bindgen
  ensure_cargo_leptos
  ensure_postgres_binaries
  ensure_node_deps
  ensure_chromium
}
