#!/bin/sh
# check_format.sh — fails when a git-tracked C file under src/ or tests/ is not formatted as
# .clang-format says (clang-format --dry-run --Werror). Run from anywhere; used by
# `make format-check` and the CTest `format` (enabled with -DAGYN_CHECK_FORMAT=ON).
set -eu
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check_format: clang-format is not installed" >&2; exit 1; }
files=$(git ls-files -- 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h')
[ -n "$files" ] || { echo "check_format: no C files found (not a git checkout?)" >&2; exit 1; }
# shellcheck disable=SC2086 # one file name per word: the tree has no spaces in C file names
clang-format --dry-run --Werror $files
echo "check_format: $(echo "$files" | wc -l) files formatted"
