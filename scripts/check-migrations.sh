#!/usr/bin/env bash
# Runs migrations/ with sqlx-cli on a fresh file, then checks that nexus sees the same schema
# version (and checksums) it embeds: `nexus health` must report the database healthy.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
sqlx="$("$root/scripts/sqlx-cli.sh")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
url="sqlite:$tmp/cli.db"
"$sqlx" database create --database-url "$url"
"$sqlx" migrate run --source "$root/migrations" --database-url "$url"
"$sqlx" migrate info --source "$root/migrations" --database-url "$url"
nexus=(cargo run --quiet -p nexus-cli --)
# `health` opens read-only and is healthy only when every migration sqlx-cli recorded has the
# version and checksum nexus embeds (and no other).
(cd "$root" && "${nexus[@]}" --db "$tmp/cli.db" health >/dev/null)
# `migrate` then finds nothing to apply and reports the same version.
(cd "$root" && "${nexus[@]}" --db "$tmp/cli.db" migrate >/dev/null)
echo "sqlx-cli migrations: ok"
