#!/usr/bin/env bash
# Regenerates catalog/expected/*.out from sources the independent way:
#
#  - C programs are compiled with the host C compiler (${CC:-cc} -O2, host
#    libc, nothing from tvm) in a temporary directory and run with the
#    manifest's arguments and argv[0] set to the program name;
#  - WAT programs are run on wasmi through tvm-oracle's `run` example.
#
# tvm itself is never involved.  The script also compares each exit status
# (or trap) with the manifest and reports mismatches; it exits non-zero if
# there were any.  Usage: catalog/regen-expected.sh [NAME...]
set -euo pipefail
set -f # arguments are split on whitespace, never globbed

catalog=$(cd "$(dirname "$0")" && pwd)
workspace=$(cd "$catalog/.." && pwd)
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$workspace"
cargo build -q -p tvm-catalog --example manifest_tsv
cargo build -q -p tvm-oracle --example run
target_dir=$(cargo metadata -q --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
tsv_tool="$target_dir/debug/examples/manifest_tsv"
run_tool="$target_dir/debug/examples/run"

"$tsv_tool" > "$tmp/manifest.tsv"

failures=0
while IFS=$'\t' read -r name argv0 source expected status args stdin; do
    stdin_file=/dev/null
    [ "$stdin" = "-" ] || stdin_file="$catalog/$stdin"
    if [ $# -gt 0 ]; then
        wanted=no
        for n in "$@"; do [ "$n" = "$name" ] && wanted=yes; done
        [ "$wanted" = yes ] || continue
    fi
    out="$catalog/$expected"
    mkdir -p "$(dirname "$out")"
    case "$source" in
    *.c)
        mkdir -p "$tmp/$name"
        "$cc" -O2 -o "$tmp/$name/$argv0" "$catalog/$source"
        set +e
        (cd "$tmp/$name" && exec -a "$argv0" "./$argv0" $args) < "$stdin_file" > "$out"
        code=$?
        set -e
        got="exit $code"
        ;;
    *.wat)
        set +e
        "$run_tool" "$catalog/$source" $args > "$out" 2> "$tmp/$name.err"
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
        echo "$name: unknown source type $source" >&2
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
done < "$tmp/manifest.tsv"

[ "$failures" -eq 0 ]
