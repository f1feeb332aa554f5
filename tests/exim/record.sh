#!/bin/sh
# Stands in for Mailman's wrapper in the end-to-end tests: records each
# delivery as OUT/<list>.<command>.<pid> (OUT: this script's directory/out).
out="$(dirname "$0")/out"
cat > "$out/$2.$1.$$.tmp" && mv "$out/$2.$1.$$.tmp" "$out/$2.$1.$$"
