#!/usr/bin/env python3
"""hostile_corpus.py - messages and list states made to exhaust a verdict.

    hostile_corpus.py messages --size BYTES --out DIR
        Write one message per attack (DIR/<attack>.eml, each about BYTES
        long) and DIR/manifest.json: [{"name", "file", "bytes", "what"}].
    hostile_corpus.py lists --members N --out DIR
        Write DIR/<list>/config.pck for list states that grow with input:
        a list of N members (tools/py2pickle.py synth).
    hostile_corpus.py states --size BYTES --out DIR [--only NAME ...]
        Write DIR/<state>/config.pck (each at most about BYTES) and
        DIR/manifest.json: list states made to exhaust the pickle reader
        and the policy built from it, realistic (huge member, non-member
        and rule lists) and adversarial (a node per input byte, reference
        and memo floods, deep nesting, a huge long, escaped strings, one
        string referenced from a setting many times, one key repeated).

The messages are what any stranger can send: MIME bombs (millions of empty
parts, parts just under the parser's limits), deep nesting, header floods
(top level and in parts), huge lines, blank-line and CR floods, encoded
bodies with an Approved: line (Approve.py decodes and copies them), huge
address lists. tests/bounds_hostile.rs runs them through `mailman-gate
check` and asserts time and peak memory with generous margins;
tools/bounds_measure.sh measures them precisely (README, "Reliability").
Standalone: Python 3 standard library only.
"""

import argparse
import base64
import json
import os
import subprocess
import sys

HEAD = (b"From: alice@example.com\nTo: test@example.com\n"
        b"Subject: hostile\nMessage-ID: <hostile@example.com>\n")


def fill(unit, size):
    """`unit` repeated to about `size` bytes."""
    return unit * max(1, size // len(unit))


def multipart(body, boundary=b"B"):
    return (HEAD + b"Content-Type: multipart/mixed; boundary=" + boundary
            + b"\n\n" + body + b"--" + boundary + b"--\n")


def attacks(size):
    """(name, what, bytes) for every attack, each about `size` bytes."""
    yield ("mime-empty-parts", "empty MIME parts (`--B` and a blank line), "
           "millions of them", multipart(fill(b"--B\n\n", size)))
    n = 33_000
    part = (b"--B\nContent-Type: text/plain\nContent-Disposition: inline\n"
            b"X-Part: x\n\n")
    filler = b"x" * max(0, size // n - len(part) - 1) + b"\n"
    yield ("mime-parts-under-limit", "33 000 parts with three headers each, "
           "just under the header-field limit", multipart((part + filler) * n))
    n = 99_990
    yield ("mime-parts-at-limit", "99 990 text parts, just under the part "
           "limit", multipart((b"--B\n\n" + b"x" * max(0, size // n - 6)
                               + b"\n") * n))
    depth = 10_000
    nest = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n"
                    % (i, i) for i in range(depth))
    yield ("deep-multipart", "multipart nested 10 000 deep",
           HEAD + nest + fill(b"x", max(0, size - len(nest))))
    yield ("deep-rfc822", "message/rfc822 nested to the message's size",
           HEAD + fill(b"Content-Type: message/rfc822\n\n", size))
    yield ("header-flood", "top-level header fields (`X-A: b`) to the "
           "message's size", HEAD + fill(b"X-A: b\n", size) + b"\nbody\n")
    yield ("part-header-flood", "header fields of one MIME part to the "
           "message's size (Exim caps only the top level)",
           multipart(b"--B\n" + fill(b"X-A: b\n", size) + b"\nbody\n"))
    yield ("folded-header", "one header folded over millions of lines",
           HEAD + b"X-Long: a\n" + fill(b" b\n", size) + b"\nbody\n")
    yield ("huge-subject", "one Subject line of the message's size, "
           "non-ASCII", HEAD.replace(b"Subject: hostile\n", b"")
           + b"Subject: " + fill(b"\xe9t\xe9 ", size) + b"\n\nbody\n")
    yield ("huge-line", "a body of one line without a line end",
           HEAD + b"\n" + fill(b"x", size))
    yield ("blank-lines", "a body of blank lines, then `subscribe` "
           "(is_administrivia)", HEAD + b"\n" + fill(b"\n", size)
           + b"subscribe\n")
    yield ("cr-lines", "a body of bare CRs (each one a line to Python)",
           HEAD + b"\n" + fill(b"\r", size))
    text = fill(b"Approved: x <b>secret</b>\n", size * 3 // 4)
    yield ("approved-base64", "a base64 text/plain body whose first line "
           "is `Approved:` (Approve.py decodes and searches every text part)",
           HEAD + b"Content-Type: text/plain\nContent-Transfer-Encoding: "
           b"base64\n\n" + base64.encodebytes(b"Approved: secret\n" + text))
    yield ("approved-qp", "a quoted-printable body of `=41` escapes after "
           "an `Approved:` line", HEAD + b"Content-Type: text/plain\n"
           b"Content-Transfer-Encoding: quoted-printable\n\nApproved: pw\n"
           + fill(b"=41=42<x>=\n", size))
    yield ("many-recipients", "a To: header of 8-byte addresses, 1 MB "
           "(Hold counts recipients)",
           HEAD.replace(b"To: test@example.com\n", b"")
           + b"To: " + fill(b"a@b.cd, ", min(size, 1000 << 10)) + b"x@y.z\n\nbody\n")
    yield ("encoded-words", "a Subject of RFC 2047 encoded words, 1 MB "
           "(decoded for header_filter_rules)",
           HEAD.replace(b"Subject: hostile\n", b"") + b"Subject: "
           + fill(b"=?utf-8?b?w6nDqQ==?= ", min(size, 1000 << 10)) + b"\n\nbody\n")
    word = b"X-E: " + fill(b"=?utf-8?b?w6nDqQ==?= ", 1000 << 10) + b"\n"
    yield ("encoded-words-parts", "RFC 2047 encoded words in part headers, "
           "1 MB a part, to the total header limit",
           multipart((b"--B\n" + word + b"\nx\n") * max(1, min(size, 7 << 20) // len(word))))


def cmd_messages(a):
    os.makedirs(a.out, exist_ok=True)
    manifest = []
    for name, what, data in attacks(a.size):
        path = os.path.join(a.out, name + ".eml")
        with open(path, "wb") as f:
            f.write(data)
        manifest.append({"name": name, "file": path, "bytes": len(data),
                         "what": what})
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("%d messages in %s" % (len(manifest), a.out))


def cmd_lists(a):
    here = os.path.dirname(os.path.abspath(__file__))
    d = os.path.join(a.out, "huge")
    os.makedirs(d, exist_ok=True)
    subprocess.run([sys.executable, os.path.join(here, "py2pickle.py"),
                    "synth", "--members", str(a.members), "-o",
                    os.path.join(d, "config.pck")], check=True)
    print("list huge: %d members in %s" % (a.members, d))


# -- list states --------------------------------------------------------
# config.pck files written opcode by opcode (protocol 1, as cPickle writes
# them); each is a dict Mailman would load, with one field holding the bulk.

def pstr(s):
    b = s if isinstance(s, bytes) else s.encode()
    if len(b) < 256:
        return b"U" + bytes([len(b)]) + b
    return b"T" + len(b).to_bytes(4, "little") + b


def plist(items):
    """A list of already-pickled items, APPENDS in batches of 1000."""
    out = [b"]"]
    for i in range(0, len(items), 1000):
        out.append(b"(" + b"".join(items[i:i + 1000]) + b"e")
    return b"".join(out)


def state(field, value, more=b""):
    """A list dict: `field` holds `value` (pickled bytes)."""
    return (b"}(" + pstr("real_name") + pstr("Hostile") +
            pstr("preferred_language") + pstr("en") + more +
            pstr(field) + value + b"u.")


def fit(size, make):
    """Items make(0), make(1), ... while the pickle stays within size."""
    items, total = [], 200
    while True:
        item = make(len(items))
        total += len(item) + 1  # + the batches' MARK and APPENDS
        if total > size:
            return items
        items.append(item)


# The largest header_filter_rules and duplicate-key states the reader
# accepts (`tools/bounds_states.sh 64 1 largest` finds them again).
ACCEPTED_RULES = 8 << 20
ACCEPTED_DUPLICATES = 4_000_000


def list_states(size, tools):
    """(name, make) per state; make() gives (what, bytes or a callable
    writing the file), computed only for the states asked for."""
    def members():
        n = max(1000, size * 100_000 // (17 << 20))
        return ("%d members with user_options, passwords, languages and "
                "names (py2pickle.py synth)" % n,
                lambda path: subprocess.run(
                    [sys.executable, os.path.join(tools, "py2pickle.py"),
                     "synth", "--members", str(n), "-o", path],
                    check=True, stdout=subprocess.DEVNULL))
    yield "members-huge", members

    def nonmembers():
        addr = fit(size, lambda i: pstr("user%d@host%d.example.org"
                                        % (i, i % 977)))
        return ("accept_these_nonmembers of %d addresses" % len(addr),
                state("accept_these_nonmembers", plist(addr)))
    yield "nonmembers-huge", nonmembers

    def rules(size):
        rule = fit(size, lambda i: b"(" + pstr("^x-tag-%d: yes" % i) +
                   b"K\x03I00\nt")
        return ("header_filter_rules of %d rules" % len(rule),
                state("header_filter_rules", plist(rule)))
    yield "header-rules-huge", lambda: rules(size)
    # The largest such list the reader accepts (bisected with
    # `tools/bounds_states.sh SIZE RUNS largest`): every verdict compiles
    # rules until the regex budget is spent, after the longest read.
    yield "header-rules-accepted", lambda: rules(min(size, ACCEPTED_RULES))

    # One byte per node: a list of empty lists.
    def node_flood():
        n = size - 80
        return ("%d empty lists (one byte, one node each)" % n,
                state("topics", b"(" + b"]" * n + b"l"))
    yield "node-flood", node_flood

    # Two bytes per item, no node: one memoized value fetched again.
    def get_flood():
        n = (size - 80) // 2
        return ("a list of %d references to one value" % n,
                state("topics", pstr("ab") + b"q\x010](" + b"h\x01" * n +
                      b"e"))
    yield "get-flood", get_flood

    # Five bytes per memo entry, keys far apart (the sparse memo table).
    def memo_puts():
        n = (size - 80) // 5
        return ("%d memo entries with sparse keys" % n,
                state("topics", b"]" + b"".join(
                    b"r" + (i * 65537 % (1 << 32)).to_bytes(4, "little")
                    for i in range(n))))
    yield "memo-puts", memo_puts

    # Lists inside lists, as deep as the input allows.
    def deep():
        n = (size - 80) // 2
        return ("lists nested %d deep" % n,
                state("topics", b"]" * n + b"a" * (n - 1)))
    yield "deep-nesting", deep

    def huge_long():
        n = size - 80
        return ("a LONG of %d digits" % n,
                state("data_version", b"L" + b"9" * n + b"L\n"))
    yield "huge-long", huge_long

    # An escaped one-byte string costs an owned copy: the worst ratio.
    def escaped():
        n = (size - 80) // 7
        return ("%d one-byte strings with escapes" % n,
                state("topics", b"(" + b"S'\\n'\n" * n + b"l"))
    yield "escaped-strings", escaped

    def big_string():
        n = size - 80
        return ("one %d-byte str" % n,
                state("info", b"T" + n.to_bytes(4, "little") + b"x" * n))
    yield "big-string", big_string

    # One 10 KB pattern, referenced again and again: a small pickle whose
    # settings, copied out, are a thousand times its size.
    def shared():
        n = max(1000, size // 160)
        return ("accept_these_nonmembers: %d references to one 10 KB "
                "string" % n,
                state("accept_these_nonmembers",
                      b"T" + (10240).to_bytes(4, "little") + b"x" * 10240 +
                      b"q\x010](" + b"h\x01" * n + b"e"))
    yield "shared-string-refs", shared

    # The same key set again and again: the root dict grows, lookups scan.
    def duplicates(size):
        n = (size - 80) // 4
        return ("the root dict with %d duplicate entries" % n,
                b"}" + pstr("real_name") + b"q\x010" + pstr("x") +
                b"q\x020(" + b"h\x01h\x02" * n + b"u.")
    yield "duplicate-keys", lambda: duplicates(size)
    yield "duplicate-keys-accepted", lambda: duplicates(
        min(size, ACCEPTED_DUPLICATES))


def cmd_states(a):
    tools = os.path.dirname(os.path.abspath(__file__))
    manifest = []
    for name, make in list_states(a.size, tools):
        if a.only and name not in a.only:
            continue
        what, data = make()
        d = os.path.join(a.out, name)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "config.pck")
        if callable(data):
            data(path)
        else:
            with open(path, "wb") as f:
                f.write(data)
        manifest.append({"name": name, "file": path,
                         "bytes": os.path.getsize(path), "what": what})
        del data
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("%d list states in %s" % (len(manifest), a.out))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("messages")
    m.add_argument("--size", type=int, default=8 << 20)
    m.add_argument("--out", required=True)
    m.set_defaults(func=cmd_messages)
    l = sub.add_parser("lists")
    l.add_argument("--members", type=int, default=100_000)
    l.add_argument("--out", required=True)
    l.set_defaults(func=cmd_lists)
    s = sub.add_parser("states")
    s.add_argument("--size", type=int, default=8 << 20)
    s.add_argument("--out", required=True)
    s.add_argument("--only", action="append",
                   help="write only this state (repeatable)")
    s.set_defaults(func=cmd_states)
    a = p.parse_args()
    a.func(a)


if __name__ == "__main__":
    main()
