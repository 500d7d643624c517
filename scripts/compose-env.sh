#!/usr/bin/env bash
# scripts/compose-env.sh [FILE] — writes the variables docker-compose.yml requires (./stack compose-env).
# FILE defaults to .env beside docker-compose.yml, which compose reads by itself. The template is
# compose/.env.example: every secret left empty there (a *_PASSWORD, or the cluster profile's *_COOKIE) gets a random
# value (24 letters and digits); a value FILE
# already has is kept, so running this again changes nothing that works (rotate one by deleting its line first;
# docs/security.md says what each change needs). Keys FILE has that the template does not are kept at its end.
# The file is written with mode 600; it is in .gitignore and .dockerignore.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.env}"
template=compose/.env.example

declare -A kept=()
kept_order=()
if [ -f "$out" ]; then
  while IFS= read -r line; do
    [[ $line =~ ^([A-Z][A-Z0-9_]*)=(.*)$ ]] || continue
    kept[${BASH_REMATCH[1]}]="${BASH_REMATCH[2]}"
    kept_order+=("${BASH_REMATCH[1]}")
  done <"$out"
fi

random_password() {
  local value=''
  while [ ${#value} -lt 24 ]; do value+="$(head -c 48 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9')"; done
  printf '%s' "${value:0:24}"
}

secret() { [[ $1 == *_PASSWORD || $1 == *_COOKIE ]]; }

declare -A in_template=()
generated=0 reused=0
tmp="$(mktemp "${out}.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
chmod 600 "$tmp"
{
  printf '# Written by scripts/compose-env.sh from compose/.env.example (passwords random, generated on this machine).\n'
  while IFS= read -r line; do
    if [[ $line =~ ^([A-Z][A-Z0-9_]*)=(.*)$ ]]; then
      key="${BASH_REMATCH[1]}" value="${BASH_REMATCH[2]}"
      in_template[$key]=1
      if [ -n "${kept[$key]+set}" ] && { [ -n "${kept[$key]}" ] || ! secret "$key"; }; then
        value="${kept[$key]}"
        secret "$key" && reused=$((reused + 1))
      elif secret "$key" && [[ -z $value ]]; then
        value="$(random_password)"
        generated=$((generated + 1))
      fi
      printf '%s=%s\n' "$key" "$value"
    else
      printf '%s\n' "$line"
    fi
  done <"$template"
  extra=()
  for key in "${kept_order[@]}"; do [ -n "${in_template[$key]+set}" ] || extra+=("$key"); done
  if [ ${#extra[@]} -gt 0 ]; then
    printf '\n# Kept from the earlier %s (not in the template).\n' "$out"
    for key in "${extra[@]}"; do printf '%s=%s\n' "$key" "${kept[$key]}"; done
  fi
} >"$tmp"
mv "$tmp" "$out"
trap - EXIT
printf 'compose-env: wrote %s: %d secrets generated, %d kept\n' "$out" "$generated" "$reused"
