#!/usr/bin/env bash
# Builds the AArch64 test programs with Debian's cross compiler into the directory given as
# $1 (default: ../../../target/a64-programs relative to this script). Only sources newer than
# their binary are rebuilt. Exit status 3 means no cross compiler is installed.
set -euo pipefail
src="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$src/../../../target/a64-programs}"
mkdir -p "$out"
CC="${A64_CC:-aarch64-linux-gnu-gcc}"
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "a64 test programs: cross compiler '$CC' not found (apt-get install gcc-aarch64-linux-gnu)" >&2
  exit 3
fi
# -static -no-pie: the loader runs static ET_EXEC programs; -O2 as a distribution would build.
CFLAGS=(-O2 -static -no-pie -fno-stack-protector)
build() {
  local name=$1; shift
  local srcfile=$1; shift
  if [ ! -e "$out/$name" ] || [ "$src/$srcfile" -nt "$out/$name" ] || [ "$0" -nt "$out/$name" ]; then
    "$CC" "${CFLAGS[@]}" "$@" -o "$out/$name.tmp" "$src/$srcfile"
    mv "$out/$name.tmp" "$out/$name"
  fi
}
build hello hello.c
build dirtier dirtier.c
build hashtable hashtable.c
build threads threads.c -pthread
build isa isa.c -lm
build isa-o3 isa.c -lm -O3 -funroll-loops
build syscalls syscalls.c
build bare bare.S -nostdlib -march=armv8.1-a
build atomics atomics.S -nostdlib -march=armv8.1-a
echo "$out"
