#!/usr/bin/env bash
# Proto contract gate: lint, generated-code drift, and breaking changes against the previous commit.
# Expects node/pnpm already on PATH (e.g. via scripts/toolchain.sh); buf comes from node_modules.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
GEN_DIR="packages/proto/src/gen"

echo "==> buf lint"
pnpm --silent buf lint

echo "==> buf generate drift check ($GEN_DIR)"
# Generate into a scratch base directory (--output prefixes the template's out paths) so the
# checked-in tree is never touched, then compare file-by-file, including added/removed files.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
pnpm --silent buf generate --output "$scratch"
if ! diff -r "$scratch/$GEN_DIR" "$GEN_DIR"; then
  echo "FAIL: $GEN_DIR differs from 'buf generate' output. Run 'pnpm proto:generate' and commit the result." >&2
  exit 1
fi
echo "generated code is up to date"

echo "==> buf breaking"
if ! git rev-parse --verify --quiet 'HEAD~1^{commit}' >/dev/null; then
  echo "skipped: HEAD has no parent commit to compare against"
elif ! git cat-file -e 'HEAD~1:api/proto' 2>/dev/null || ! git cat-file -e 'HEAD~1:buf.yaml' 2>/dev/null; then
  echo "skipped: HEAD~1 has no api/proto module (buf.yaml + api/proto), so there is no previous contract"
else
  pnpm --silent buf breaking --against '.git#ref=HEAD~1'
  echo "no breaking changes against HEAD~1"
fi
