#!/usr/bin/env bash
# The project's test command: set up, then run every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
cargo test --workspace --release
