# shellcheck shell=bash
# Sourced by ./k1s0 and .ci/run. Puts a Node.js >= 22.22 and the pinned pnpm on PATH.
# Machines that still ship Node 20 get Node 22 from the npm registry (node-<os>-<arch>
# packages carry the official binary), installed once into the git-ignored .toolchain/.
set -euo pipefail

K1S0_ROOT="${K1S0_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
K1S0_NODE_VERSION="22.23.3"
K1S0_PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$K1S0_ROOT/package.json")"
TOOLCHAIN="$K1S0_ROOT/.toolchain"

node_is_recent() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=22)?0:1)'
}

node_package() {
  local os arch
  case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) echo "unsupported OS $(uname -s)" >&2; return 1 ;; esac
  case "$(uname -m)" in x86_64 | amd64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) echo "unsupported CPU $(uname -m)" >&2; return 1 ;; esac
  echo "node-$os-$arch"
}

ensure_toolchain() {
  mkdir -p "$TOOLCHAIN"
  local pkg want_node=0
  pkg="$(node_package)"
  if [ -x "$TOOLCHAIN/node_modules/$pkg/bin/node" ]; then
    export PATH="$TOOLCHAIN/node_modules/$pkg/bin:$PATH"
  elif ! node_is_recent; then
    want_node=1
  fi
  if [ "$want_node" = 1 ] || [ ! -x "$TOOLCHAIN/node_modules/.bin/pnpm" ] ||
    [ "$("$TOOLCHAIN/node_modules/.bin/pnpm" --version 2>/dev/null || true)" != "$K1S0_PNPM_VERSION" ]; then
    local deps="\"pnpm\":\"$K1S0_PNPM_VERSION\""
    if [ "$want_node" = 1 ] || [ -d "$TOOLCHAIN/node_modules/$pkg" ]; then
      deps="$deps,\"$pkg\":\"$K1S0_NODE_VERSION\""
    fi
    printf '{"private":true,"dependencies":{%s}}\n' "$deps" >"$TOOLCHAIN/package.json"
    echo "k1s0: installing toolchain ($deps) into .toolchain/" >&2
    (cd "$TOOLCHAIN" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
    if [ -x "$TOOLCHAIN/node_modules/$pkg/bin/node" ]; then
      export PATH="$TOOLCHAIN/node_modules/$pkg/bin:$PATH"
    fi
  fi
  export PATH="$TOOLCHAIN/node_modules/.bin:$PATH"
  node_is_recent || { echo "k1s0: Node.js >= 22.22 is required, found $(node --version)" >&2; return 1; }
}

ensure_toolchain
