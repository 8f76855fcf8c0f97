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
(cd "$root" && "${nexus[@]}" --db "$tmp/cli.db" --no-migrate health >/dev/null)
# Opening with migrations on validates the checksums sqlx-cli recorded.
(cd "$root" && "${nexus[@]}" --db "$tmp/cli.db" health >/dev/null)
echo "sqlx-cli migrations: ok"
