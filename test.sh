#!/usr/bin/env bash
# The project's one test command: every module of the workspace, race detector on.
# `go test ./...` alone does not cross into nested modules, so they are named here.
set -euo pipefail
cd "$(dirname "$0")"
modules=$(go work edit -json | sed -n 's/.*"DiskPath": "\(.*\)".*/\1/p')
pkgs=()
for m in $modules; do
  if [ "$m" = "." ]; then pkgs+=("./..."); else pkgs+=("./${m#./}/..."); fi
done
exec go test -race -count=1 "$@" "${pkgs[@]}"
