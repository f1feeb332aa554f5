# -*- coding: utf-8 -*-
"""Random patterns x random subjects, answered by CPython 2.7's `re`.

Run with python2.7 (the seed makes the output reproducible):
    python2.7 tools/pyre_random.py > tests/pyre/random.json

Output: {"cases": [entry, ...]}; each entry: pattern, flags ("i", "m",
"u", "s" letters; "s" is written inline as (?s)), subjects, and either
"error" (the exception Python raises at compile time) or "results": per
subject one digit, 1 if `search` finds a match plus 2 if `match` does.
Patterns mix groups, back references, lookarounds, conditionals, lazy and
counted repeats, classes and anchors over a small alphabet, so that
subjects of a dozen chars exercise backtracking, marks and the search
shortcuts.  Subjects are unicode objects under "u", else byte strings
(the Latin-1 mapping callers use).
"""
import json
import random
import re
import signal
import sys
import warnings

warnings.simplefilter('ignore')

SEED = 20261130
N_PATTERNS = 4000
N_SUBJECTS = 10

ATOMS = [u'a', u'b', u'c', u'A', u'B', u'.', u'\\w', u'\\W', u'\\s', u'\\d', u'[ab]',
         u'[^a]', u'[a-c]', u'[^\\w]', u'\\n', u' ', u'-', u'\xe9', u'\xc9', u'[\xe0-\xff]',
         u'[A-Z]', u'x', u'\\.', u'@']
ANCHORS = [u'^', u'$', u'\\A', u'\\Z', u'\\b', u'\\B']
SUBJ_CHARS = u'aabbcAB \n-x.@1\xe9\xc9'


class Gen(object):
    def __init__(self, rnd):
        self.r = rnd
        self.groups = 0

    def atom(self, depth):
        r = self.r
        k = r.random()
        if depth > 3 or k < 0.45:
            return r.choice(ATOMS)
        if k < 0.55:
            return r.choice(ANCHORS)
        if k < 0.7:
            self.groups += 1
            return u'(' + self.alt(depth + 1) + u')'
        if k < 0.78:
            return u'(?:' + self.alt(depth + 1) + u')'
        if k < 0.84 and self.groups:
            return u'\\%d' % r.randint(1, self.groups)
        if k < 0.9:
            kind = r.choice([u'?=', u'?!', u'?<=', u'?<!'])
            if kind in (u'?<=', u'?<!'):
                body = u''.join(r.choice(ATOMS[:6]) for _ in range(r.randint(1, 3)))
            else:
                body = self.alt(depth + 1)
            return u'(' + kind + body + u')'
        if k < 0.95 and self.groups:
            g = r.randint(1, self.groups)
            yes = self.seq(depth + 1)
            if r.random() < 0.5:
                return u'(?(%d)%s|%s)' % (g, yes, self.seq(depth + 1))
            return u'(?(%d)%s)' % (g, yes)
        return r.choice(ATOMS)

    def piece(self, depth):
        a = self.atom(depth)
        r = self.r
        k = r.random()
        if a in ANCHORS:
            return a
        if k < 0.55:
            return a
        q = r.choice([u'*', u'+', u'?', u'{2}', u'{1,3}', u'{0,2}', u'{2,}', u'{,2}'])
        if r.random() < 0.3:
            q += u'?'
        return a + q

    def seq(self, depth):
        return u''.join(self.piece(depth) for _ in range(self.r.randint(0, 4)))

    def alt(self, depth):
        n = 1 if self.r.random() < 0.65 else self.r.randint(2, 3)
        return u'|'.join(self.seq(depth) for _ in range(n))


def subject(rnd):
    return u''.join(rnd.choice(SUBJ_CHARS) for _ in range(rnd.randint(0, 12)))


class Slow(Exception):
    pass


def alarm(signum, frame):
    raise Slow()


def main():
    rnd = random.Random(SEED)
    out = []
    signal.signal(signal.SIGALRM, alarm)
    slow = 0
    for _ in range(N_PATTERNS):
        g = Gen(rnd)
        pattern = g.alt(0)
        fl = u''.join(f for f in u'imus' if rnd.random() < 0.3)
        if u's' in fl:
            pattern = u'(?s)' + pattern
        flags = 0
        if u'i' in fl:
            flags |= re.I
        if u'm' in fl:
            flags |= re.M
        if u'u' in fl:
            flags |= re.U
        subjects = [subject(rnd) for _ in range(N_SUBJECTS)]
        entry = {'pattern': pattern, 'flags': fl.replace(u's', u''), 'subjects': subjects}
        try:
            if u'u' in fl:
                rx = re.compile(pattern, flags)
            else:
                rx = re.compile(pattern.encode('latin-1'), flags)
        except Exception as e:
            entry['error'] = '%s: %s' % (type(e).__name__, e)
            out.append(entry)
            continue
        res = []
        # A pattern Python itself cannot finish quickly is left out.
        signal.alarm(1)
        try:
            for s in subjects:
                ss = s if u'u' in fl else s.encode('latin-1')
                res.append(str(int(rx.search(ss) is not None) + 2 * int(rx.match(ss) is not None)))
            signal.alarm(0)
        except Slow:
            slow += 1
            continue
        entry['results'] = ''.join(res)
        out.append(entry)
    sys.stdout.write('{"seed": %d, "cases": [\n' % SEED)
    sys.stdout.write(',\n'.join(json.dumps(c, sort_keys=True) for c in out))
    sys.stdout.write('\n]}\n')
    sys.stderr.write('%d patterns, %d errors, %d left out (slow in Python)\n'
                     % (len(out), sum('error' in c for c in out), slow))


main()
