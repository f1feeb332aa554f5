#!/bin/sh
# Copy mailman-gate snapshots from the Mailman host to a mail host that does
# not run Mailman (run on the Mailman host after `mailman-gate export`, e.g.
# as ExecStartPost= of mailman-gate-export.service, or from cron).
#
# rsync writes each file under a temporary name and renames it into place
# (its default, without --inplace), so a reader on the receiving side always
# maps either the old or the new snapshot, never a half-copied one; a reader
# that already mapped the old file keeps it until its connection ends.
# --delete-after removes snapshots of deleted lists once the rest is copied.
set -eu
src=/var/lib/mailman-gate/
for mx in "$@"; do
    rsync -a --delete-after --include='*.cdb' --exclude='*' "$src" "$mx:/var/lib/mailman-gate/"
done
