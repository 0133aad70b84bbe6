#!/usr/bin/env bash
# Nightly backup of the welfare-posts database with pg_dump (custom format: compressed, and
# pg_restore can restore one table). Runs as the postgres superuser, so row-level security
# does not hide rows from the dump. A dump is written beside its final name and renamed when
# complete, so a half-written file never looks like a backup. Dumps older than WP_KEEP_DAYS
# are deleted.
# Environment: WP_DATABASE (default welfare_posts), WP_BACKUP_DIR (default
# /var/backups/welfare-posts), WP_KEEP_DAYS (default 30).
# Restore: createdb -O wp_owner welfare_posts && pg_restore -d welfare_posts FILE.dump
set -euo pipefail
db=${WP_DATABASE:-welfare_posts}
dir=${WP_BACKUP_DIR:-/var/backups/welfare-posts}
keep=${WP_KEEP_DAYS:-30}
umask 077
mkdir -p "$dir"
file="$dir/$db-$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump --format=custom --file="$file.partial" "$db"
mv "$file.partial" "$file"
find "$dir" -name "$db-*.dump" -mtime +"$keep" -delete
find "$dir" -name "$db-*.dump.partial" -mtime +1 -delete
echo "backup written: $file ($(du -h "$file" | cut -f1))"
