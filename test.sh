#!/usr/bin/env bash
# The project's one test command: every module of the workspace, race detector on.
# `go test ./...` alone does not cross into nested modules, so they are named here.
#
# It closes with a summary (internal/testreport): each package's counts, every
# skipped test and why (Chromium, Node, PyJWT or PostgreSQL missing), whether
# the tests left files in the working tree, and last the line
# "tests: N passed, N failed, N skipped". With CI set (CI=true), a skipped test
# or a file left in the tree fails the run. Extra arguments go to go test.
set -euo pipefail
cd "$(dirname "$0")"
modules=$(go work edit -json | sed -n 's/.*"DiskPath": "\(.*\)".*/\1/p')
pkgs=()
for m in $modules; do
  if [ "$m" = "." ]; then pkgs+=("./..."); else pkgs+=("./${m#./}/..."); fi
done

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/testreport" ./internal/testreport

flags=()
case "${CI:-}" in "" | false | 0) ;; *) flags+=(-strict) ;; esac
for arg in "$@"; do
  case "$arg" in -v | -v=true | -test.v | -test.v=true) flags+=(-v) ;; esac
done
status=0
"$bin/testreport" ${flags[@]+"${flags[@]}"} go test -json -race -count=1 "$@" "${pkgs[@]}" || status=$?
exit $status
