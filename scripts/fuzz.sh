#!/usr/bin/env bash
# Runs a cargo-fuzz target for a while: scripts/fuzz.sh [TARGET] [SECONDS] [extra libFuzzer args]
# (defaults: fts_query, 120); SECONDS=0 runs the given files once (reproduce a crash).
# Not part of CI.
#
# Installs cargo-fuzz (pinned, --locked) into $CARGO_TARGET_DIR/tools (or target/tools) when
# missing. cargo-fuzz needs nightly compiler flags; on a stable toolchain RUSTC_BOOTSTRAP=1 lets
# them through. The fuzz crate is its own workspace (fuzz/Cargo.toml) and builds into
# <target>/fuzz. The committed seeds are fuzz/corpus/<target>/; inputs the fuzzer finds go to
# <target>/fuzz/corpus/<target>/ (copy interesting ones into the seeds). A crash is saved under
# fuzz/artifacts/<target>/ and reproduced with `scripts/fuzz.sh TARGET 0 ARTIFACT`.
# FUZZ_SANITIZER=address builds with ASan (default: none, several times faster; the code under
# test is safe Rust and SQLite's C is not instrumented either way).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target_name="${1:-fts_query}"
seconds="${2:-120}"
shift $(( $# < 2 ? $# : 2 ))
target_dir="${CARGO_TARGET_DIR:-$root/target}"
tools="$target_dir/tools"
want="0.13.2"
fuzz="$tools/bin/cargo-fuzz"
if ! [ -x "$fuzz" ] || ! "$fuzz" fuzz --version 2>/dev/null | grep -q " $want"; then
  echo "installing cargo-fuzz $want into $tools" >&2
  cargo install "cargo-fuzz@$want" --locked --root "$tools" >&2
fi
export RUSTC_BOOTSTRAP=1 SQLX_OFFLINE=true SQLX_OFFLINE_DIR="$root/.sqlx"
export CARGO_TARGET_DIR="$target_dir/fuzz"
cd "$root"
# New inputs go to the first corpus directory (scratch, in the target dir); the committed seeds
# in fuzz/corpus/<target>/ are read, not written.
scratch="$CARGO_TARGET_DIR/corpus/$target_name"
mkdir -p "$scratch" "fuzz/corpus/$target_name"
run=("$fuzz" fuzz run --sanitizer "${FUZZ_SANITIZER:-none}" --release "$target_name")
if [ "$seconds" = 0 ]; then
  "${run[@]}" "$@"  # reproduce: the arguments are artifact files
else
  "${run[@]}" "$scratch" "fuzz/corpus/$target_name" -- -max_total_time="$seconds" -max_len=4096 "$@"
fi
