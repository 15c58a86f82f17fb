#!/usr/bin/env bash
# Installs what tvm needs on a fresh Debian/Ubuntu machine; does nothing when
# everything is already there. Safe to run repeatedly.
set -euo pipefail

need=()
command -v clang >/dev/null 2>&1 || need+=(clang)
command -v wasm-ld >/dev/null 2>&1 || need+=(lld)
command -v cc >/dev/null 2>&1 || need+=(gcc)
# The MILP scheduler builds HiGHS from source (cmake) and binds it with
# bindgen (libclang).
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v c++ >/dev/null 2>&1 || need+=(g++)
ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1 || ldconfig -p | grep 'libclang[-.0-9]*\.so ' >/dev/null || need+=(libclang-dev)
# The verifier links the system z3 (never a bundled build); certificates are
# re-checked by the independent cvc5 binary.
[ -e /usr/include/z3.h ] || need+=(libz3-dev)
command -v cvc5 >/dev/null 2>&1 || need+=(cvc5)

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust (stable) with rustup first" >&2
  exit 1
fi
# clang must have the wasm32 target.
if ! clang --print-targets 2>/dev/null | grep -q wasm32; then
  echo "setup: this clang cannot target wasm32; install a clang with the WebAssembly backend" >&2
  exit 1
fi
