#!/usr/bin/env bash
# Builds libstackjwt_ffi.a for thumbv7m-none-eabi (profile `firmware`: opt-level z, LTO, panic
# abort; sha2's compact SHA-256), links main.c against it with arm-none-eabi-gcc, runs it under
# QEMU's lm3s6965evb and prints its flash and stack figures. Needs gcc-arm-none-eabi and
# qemu-system-arm (Debian packages) and the thumbv7m-none-eabi rustup target.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
target=thumbv7m-none-eabi
(
  cd "$root"
  CARGO_TARGET_DIR="$root/target/firmware-c" RUSTFLAGS='--cfg sha2_backend_soft="compact"' \
    cargo build -q -p stackjwt-ffi --profile firmware --target "$target"
)
lib="$root/target/firmware-c/$target/firmware/libstackjwt_ffi.a"
out=$(mktemp -d)
arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb -Os -std=c11 -Wall -Wextra -Werror -ffunction-sections -fdata-sections \
  -ffreestanding -nostdlib -nostartfiles -I "$root/ffi/include" -T "$here/link.ld" -Wl,--gc-sections \
  "$here/main.c" "$lib" -lgcc -Wl,-z,noexecstack -o "$out/stackjwt-c.elf"
arm-none-eabi-size -A "$out/stackjwt-c.elf" | awk '$1 ~ /^\.(vector_table|text|rodata|data)$/ {printf "%s=%s ", $1, $2} END {print ""}'
timeout 60 qemu-system-arm -cpu cortex-m3 -machine lm3s6965evb -nographic \
  -semihosting-config enable=on,target=native -kernel "$out/stackjwt-c.elf"
rm -rf "$out"
