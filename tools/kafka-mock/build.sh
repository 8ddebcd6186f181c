#!/usr/bin/env bash
# Builds .cache/kafka-mock/mock-broker: librdkafka's built-in mock Kafka cluster
# behind a small CLI (mock-broker.c), for tests on machines without a real Kafka.
#
# Debian's librdkafka is too old (the mock needs >= 2.12), so the librdkafka
# sources are taken from the node-rdkafka npm tarball, the one registry this
# machine reaches. Idempotent and safe to run concurrently (flock); prints the
# binary path on stdout, build logs go to .cache/kafka-mock/build.log.
set -euo pipefail

NODE_RDKAFKA_VERSION=3.6.1 # bundles librdkafka 2.12.0
MIN_RDKAFKA_VERSION_HEX=0x020c0000

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out_dir="$root/.cache/kafka-mock"
bin="$out_dir/mock-broker"
c_src="$here/mock-broker.c"
src_dir="$out_dir/src"
rdk_dir="$src_dir/package/deps/librdkafka"
rdk_lib="$rdk_dir/src/librdkafka.a"
log="$out_dir/build.log"

mkdir -p "$out_dir"
exec 9>"$out_dir/build.lock"
flock 9

if [[ -x $bin && $bin -nt $c_src && $bin -nt ${BASH_SOURCE[0]} ]]; then
  echo "$bin"
  exit 0
fi

: >"$log"
fail() {
  echo "kafka-mock build failed: $1 (last lines of $log follow)" >&2
  tail -n 30 "$log" >&2
  exit 1
}

if [[ ! -f $rdk_dir/configure ]]; then
  # Unpack into a scratch dir and rename, so an interrupted run never leaves a
  # half-extracted tree that later runs would mistake for a complete one.
  tmp="$(mktemp -d "$out_dir/src.tmp.XXXXXX")"
  (cd "$tmp" && npm pack --silent "node-rdkafka@$NODE_RDKAFKA_VERSION" >>"$log" 2>&1 &&
    tar xzf node-rdkafka-*.tgz package/deps/librdkafka) || {
    rm -rf "$tmp"
    fail "npm pack node-rdkafka@$NODE_RDKAFKA_VERSION"
  }
  rm -rf "$src_dir"
  mv "$tmp" "$src_dir"
fi

version_hex="$(sed -n 's/^#define RD_KAFKA_VERSION[[:space:]]*\(0x[0-9a-fA-F]*\).*/\1/p' "$rdk_dir/src/rdkafka.h")"
((version_hex >= MIN_RDKAFKA_VERSION_HEX)) || fail "bundled librdkafka $version_hex is older than 2.12"

if [[ ! -f $rdk_lib ]]; then
  # Only what the mock needs: no TLS/SASL/HTTP, compression limited to zlib.
  (cd "$rdk_dir" &&
    ./configure --disable-ssl --disable-gssapi --disable-zstd --disable-lz4-ext \
      --disable-curl --disable-syslog >>"$log" 2>&1) || fail "configure librdkafka"
  make -C "$rdk_dir/src" -j"$(nproc)" librdkafka.a >>"$log" 2>&1 || fail "make librdkafka.a"
fi

# --wrap=bind/getsockname let mock-broker.c pin the mock listener to --port
# (librdkafka always binds an ephemeral port), which restart-on-the-same-port
# tests need, and open that port only once the topics exist.
gcc -O2 -s -Wall -Wextra -o "$bin.tmp" "$c_src" -isystem "$rdk_dir/src" "$rdk_lib" \
  -Wl,--wrap=bind,--wrap=getsockname -lz -lpthread -lm -ldl -lrt >>"$log" 2>&1 || fail "compile mock-broker.c"
mv "$bin.tmp" "$bin"
echo "$bin"
