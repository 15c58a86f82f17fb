#!/usr/bin/env bash
# Regenerates catalog/expected/*.out from sources the independent way:
#
#  - C programs are compiled with the host C compiler (${CC:-cc} -O2, host
#    libc, nothing from tvm; every source of a multi-file entry, linked
#    together, local headers found beside the sources) in a temporary
#    directory and run with the manifest's arguments (each one argv entry,
#    spaces kept), argv[0] set to the program name and the manifest's
#    stdin file (or /dev/null) as standard input;
#  - WAT programs are run on wasmi through tvm-oracle's `run` example, with
#    the same arguments and standard input.
#
# tvm itself is never involved.  The script also compares each exit status
# (or trap) with the manifest and reports mismatches; it exits non-zero if
# there were any.  Usage: catalog/regen-expected.sh [NAME...]
set -euo pipefail

catalog=$(cd "$(dirname "$0")" && pwd)
workspace=$(cd "$catalog/.." && pwd)
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$workspace"
cargo build -q -p tvm-catalog --example manifest_records
cargo build -q -p tvm-oracle --example run
target_dir=$(cargo metadata -q --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
records_tool="$target_dir/debug/examples/manifest_records"
run_tool="$target_dir/debug/examples/run"

# NUL-terminated fields (see catalog/examples/manifest_records.rs).
"$records_tool" > "$tmp/manifest.records"
exec 3< "$tmp/manifest.records"
field() { IFS= read -r -d '' -u 3 "$1"; }

failures=0
while field name; do
    field argv0
    field expected
    field status
    field stdin
    field count
    sources=()
    for ((i = 0; i < count; i++)); do
        field source
        sources+=("$catalog/$source")
    done
    field count
    args=()
    for ((i = 0; i < count; i++)); do
        field arg
        args+=("$arg")
    done
    stdin_file=/dev/null
    [ -z "$stdin" ] || stdin_file="$catalog/$stdin"

    if [ $# -gt 0 ]; then
        wanted=no
        for n in "$@"; do [ "$n" = "$name" ] && wanted=yes; done
        [ "$wanted" = yes ] || continue
    fi
    out="$catalog/$expected"
    mkdir -p "$(dirname "$out")"
    case "${sources[0]}" in
    *.c)
        mkdir -p "$tmp/$name"
        "$cc" -O2 -o "$tmp/$name/$argv0" "${sources[@]}"
        set +e
        (cd "$tmp/$name" && exec -a "$argv0" "./$argv0" "${args[@]}") < "$stdin_file" > "$out"
        code=$?
        set -e
        got="exit $code"
        ;;
    *.wat)
        stdin_flag=()
        [ -z "$stdin" ] || stdin_flag=(--stdin "$stdin_file")
        set +e
        "$run_tool" "${stdin_flag[@]}" "${sources[0]}" "${args[@]}" < /dev/null > "$out" 2> "$tmp/$name.err"
        code=$?
        set -e
        got="exit $code"
        if [ "$code" -eq 101 ]; then
            got="trap $(sed -n 's/^trap: \([^,]*\),.*/\1/p' "$tmp/$name.err")"
        elif [ "$code" -eq 102 ]; then
            got="error: $(cat "$tmp/$name.err")"
        fi
        ;;
    *)
        echo "$name: unknown source type ${sources[0]}" >&2
        failures=$((failures + 1))
        continue
        ;;
    esac
    # The host reports exit statuses modulo 256.
    want="$status"
    case "$status" in
    "exit "*) want="exit $(( ${status#exit } & 255 ))" ;;
    esac
    if [ "$got" = "$want" ]; then
        printf '%-18s %-32s %6d bytes\n' "$name" "$got" "$(wc -c < "$out")"
    else
        printf '%-18s MISMATCH: manifest says "%s", got "%s"\n' "$name" "$status" "$got" >&2
        failures=$((failures + 1))
    fi
done

[ "$failures" -eq 0 ]
