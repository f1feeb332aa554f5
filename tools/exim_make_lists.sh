#!/bin/sh
# Regenerate the extra list fixtures of the Exim end-to-end tests
# (tests/exim/lists/) from the Mailman-written `test` fixture.
#   strict: generic_nonmember_action 2 (reject non-members),
#           member_moderation_action 1 (reject moderated members) with
#           its own member_moderation_notice.
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# (dump notes that a re-build would not be byte-identical; that is fine here)
python3 tools/py2pickle.py dump tests/fixtures/lists/test/config.pck -o "$tmp/test.json" >/dev/null || true
test -s "$tmp/test.json"
python3 - "$tmp/test.json" "$tmp/strict.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = d["root"]
r["real_name"] = "Strict"
r["generic_nonmember_action"] = 2
r["member_moderation_action"] = 1
r["member_moderation_notice"] = "Moderated members of the Strict list may not post. Write to the list owner instead."
json.dump(d, open(sys.argv[2], "w"), indent=1)
PY
mkdir -p tests/exim/lists/strict
python3 tools/py2pickle.py build "$tmp/strict.json" -o tests/exim/lists/strict/config.pck
cp tests/exim/lists/strict/config.pck tests/exim/lists/strict/config.pck.last
echo "wrote tests/exim/lists/strict"
