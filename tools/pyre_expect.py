# -*- coding: utf-8 -*-
"""Record what CPython 2.7's `re` does for a corpus of patterns.

Run with python2.7:
    python2.7 tools/pyre_expect.py > tests/pyre/cases.json

Output: {"subjects": {name: [subject, ...]}, "cases": [entry, ...]}.  Each
entry: pattern, flags ("i", "m", "u" letters), subject list name, whether
re.compile accepts it, and per subject one digit: 1 if `search` finds a
match, plus 2 if `match` does.
Without "u", patterns and subjects made only of chars <= 0xFF are byte
strings (the Latin-1 mapping callers use); others are unicode objects.
"""
import json
import re
import sys
import unicodedata
import warnings

warnings.simplefilter('ignore')

ADDR = [u'', u'a', u'bob@example.com', u'BOB@EXAMPLE.COM', u'bob@example.com\n',
        u'alice@lists.example.org', u'alice@example.org', u'x@example.com.evil',
        u'friend@public.com', u'to: friend@public.com', u'To: Friend@Public.com',
        u'caf\xe9@exampl\xe9.com', u'CAF\xc9@EXAMPL\xc9.COM']
HDR = [u'', u'Subject: hello', u'subject: buy vi\xe1gra now', u'Subject: VI\xc1GRA',
       u'X-Spam-Flag: YES', u'x-spam-flag: yes\nX-Other: 1',
       u'X-Other: 1\nx-spam-flag: yes', u'X-Spam-Flag: NO\n', u'line1\nline2\n',
       u'foo bar\n', u'foo\n\n', u'\n', u'ab\nab', u'tab\there']
GEN = [u'', u'a', u'ab', u'abc', u'aBc', u'ABC', u'a\nb', u'a\n', u'\n', u'abc\n',
       u' ', u'  x  ', u'a-b', u'a_b', u'a.b', u'x{2}', u'{', u'}', u'{}', u'aa', u'aaa',
       u'aaaa', u'abab', u'abcabc', u'a1', u'12', u'\x08', u'\x00', u'\x0b', u'\x1c',
       u']', u'[', u'-', u'^', u'\\', u'q', u'p', u'pL', u'\xe9', u'\xc9', u'\xdf',
       u'\u0130', u'i', u'I', u'\u0131', u'k', u'K', u'\u212a', u's', u'S',
       u'\u017f', u'\xb5', u'\u03bc', u'\u039c', u'\u03c3', u'\u03c2', u'\u03a3',
       u'\u0660', u'\xb2', u'\xbd', u'\u0301', u'\xa0', u'\x85', u'\u2028', u'\u3000',
       u'caf\xe9', u'CAF\xc9', u'na\xefve', u'\u00e9t\u00e9', u'foo bar', u'foo-bar',
       u'foobar', u'barfoo', u'\U00010400', u'\U00010428', u'#', u'a#b', u'a b',
       u'x', u'xx', u'abcd', u'dcba', u'hello world', u'Hello World', u'\t', u'\r\n']

P = []
LISTS = {}


def add(pattern, flags, subjects):
    for name, lst in LISTS.items():
        if lst == subjects:
            break
    else:
        name = 'S%d' % len(LISTS)
        LISTS[name] = list(subjects)
    P.append((pattern, flags, name))


# Mailman-typical patterns.
for p in [u'^.*@example\\.com$', u'^[^@]+@(lists\\.)?example\\.org', u'to: friend@public.com',
          u'^bob@', u'@example\\.com$', u'^.*@example\\.com\\Z', u'(?i)^bob@example\\.com$',
          u'^[a-z]+@example\\.(com|org)$', u'\\.evil$', u'^caf\xe9@', u'example\\.com',
          u'^(alice|bob)@', u'^[\\w.+-]+@[\\w-]+(\\.[\\w-]+)+$', u'.*', u'^$']:
    for fl in ['', 'i', 'u', 'iu']:
        add(p, fl, ADDR)
for p in [u'^subject:.*vi\xe1gra', u'^subject:.*vi\\xe1gra', u'(?i)^x-spam-flag: yes',
          u'^x-spam-flag: yes$', u'^X-Other: 1$', u'yes$', u'line2$', u'^line2$',
          u'foo bar$', u'bar\\Z', u'bar\\n\\Z', u'^$', u'$', u'\\n$', u'^\\n', u'^',
          u'ab$', u'^ab', u'\\Aab', u'ab\\Z', u'(?m)ab$', u'(?m)^ab', u'here\\Z',
          u'\\s+here', u'[ \\t]here', u'^subject:\\s*hello', u'\\bvi\\w+gra\\b']:
    for fl in ['', 'i', 'm', 'im', 'imu', 'u', 'mu']:
        add(p, fl, HDR + [unicodedata.normalize('NFKC', h) for h in
                          [u'Subject: \uff56\uff49\xe1gra', u'SUBJECT: V\u0131\xc1GRA',
                           u'Subject: vi\u0301agra']])

# Syntax coverage.
SYN = [
    u'a', u'ab', u'a|b', u'a|', u'|a', u'(a)', u'(?:a)', u'(?P<n>a)', u'(?P<n>a)(?P=n)',
    u'(?P<n>a)b(?P=n)', u'(a)\\1', u'(a)(b)\\2', u'(a)\\10', u'(a)\\1\\1', u'\\1(a)',
    u'(a\\1)', u'(?P<n>a(?P=n))', u'(?P=n)(?P<n>a)', u'(?P<n>a)(?P<n>b)', u'(?P<1>a)',
    u'(?P<a-b>a)', u'(?P<>a)', u'(?P<n>a', u'(?Px)', u'(?P', u'(?#comment)a',
    u'a(?#comm\\)ent)b', u'(?#unterminated', u'(?i)abc', u'abc(?i)', u'a(?i)bc',
    u'(?m)^b', u'(?s)a.b', u'a.b', u'(?x) a b c ', u'(?x)a b # comment\nc', u'a(?x) b',
    u'(?x)a\\ b', u'(?x)[ a]', u'(?x)a{1, 2}', u'(?x)a {2}', u'(?u)\\w', u'(?L)\\w',
    u'(?iLmsux)a', u'(?z)a', u'(?i', u'(?i:a)', u'(?)', u'(?', u'(?<n>a)', u'(?<x)',
    u'\\Aa', u'a\\Z', u'a\\z', u'\\Ga', u'a$', u'^a', u'^*', u'$*', u'\\b*', u'(?:^)*',
    u'a{2}', u'a{2,}', u'a{,2}', u'a{2,3}', u'a{3,2}', u'a{,}', u'a{}', u'a{', u'a{x}',
    u'a{2', u'a{2,', u'{2}', u'x{2}', u'x\\{2}', u'a{1}{2}', u'a**', u'a*?', u'a+?',
    u'a??', u'a*+', u'a++', u'a?+', u'a{1,2}?', u'a{4294967295}', u'a{4294967294,}',
    u'a{99999999999999999999}', u'*a', u'+a', u'?a', u'(*)', u'(a)*', u'(a*)*',
    u'(a*)+', u'(a|b)*c', u'(?:a|b)+?c', u'(a)|b', u'()', u'(|a)', u'(a))', u'((a)',
    u')', u'(', u'\\', u'a\\', u'\\q', u'\\p', u'\\pL', u'\\p{L}', u'\\e', u'\\u00e9',
    u'\\N', u'\\h', u'\\K', u'\\R', u'\\X', u'\\C', u'\\Q', u'\\E', u'\\G', u'\\y',
    u'\\8', u'\\9', u'\\0', u'\\00', u'\\000', u'\\0000', u'\\07', u'\\08', u'\\012',
    u'\\101', u'\\141', u'\\1234', u'\\400', u'\\777', u'\\x41', u'\\x4', u'\\x', u'\\xg1',
    u'\\x411', u'\\xe9', u'\\xE9', u'\\t', u'\\n', u'\\a', u'\\v', u'\\f', u'\\r',
    u'\\b', u'\\B', u'a\\b', u'\\ba', u'a\\B', u'\\Ba', u'\\bfoo\\b', u'\\Bfoo\\B',
    u'\\d', u'\\D', u'\\s', u'\\S', u'\\w', u'\\W', u'\\w+', u'^\\w+$', u'^\\W+$',
    u'^\\d+$', u'^\\s+$', u'^\\S+$', u'\\-', u'\\.', u'\\*', u'\\[', u'\\]', u'\\{', u'\\}',
    u'\\#', u'\\ ', u'\\\\', u'\\/', u'\\@', u'\\%', u'\\&', u'\\~', u'\\\xe9',
    u'[abc]', u'[^abc]', u'[a-c]', u'[^a-c]', u'[]a]', u'[^]a]', u'[]', u'[^]', u'[]]',
    u'[a]', u'[^a]', u'[a-]', u'[-a]', u'[a-c-e]', u'[c-a]', u'[a-\\d]', u'[\\d-a]',
    u'[\\w-]', u'[-\\w]', u'[\\w]', u'[\\W]', u'[\\d\\s]', u'[^\\d\\s]', u'[\\D]',
    u'[\\S]', u'[^\\W]', u'[\\b]', u'[\\B]', u'[\\A]', u'[\\Z]', u'[\\z]', u'[\\q]',
    u'[\\p]', u'[\\8]', u'[\\0]', u'[\\01]', u'[\\101]', u'[\\x41]', u'[\\x4]',
    u'[\\x4g]', u'[\\]]', u'[\\[]', u'[[]', u'[a[]', u'[[:alpha:]]', u'[[:alpha:]]+',
    u'[:alpha:]', u'[a&&b]', u'[a-z&&[^aeiou]]', u'[a~~b]', u'[a--b]', u'[\\w&&\\d]',
    u'[a||b]', u'[\\^a]', u'[a^]', u'[\\-]', u'[a\\-z]', u'[\\n]', u'[.]', u'[*+?]',
    u'[{}]', u'[()]', u'[$]', u'[|]', u'[#]', u'[ ]', u'[\\\\]', u'[abc', u'[a-',
    u'[\\', u'[a-z]+', u'[A-Z]+', u'[A-z]', u'[\xe0-\xff]', u'[\xc0-\xde]', u'[\u0100-\u017f]',
    u'[\U00010400-\U0001044f]', u'[\U00010400]', u'[\x00-\U0010ffff]', u'[^\x00-\U0010ffff]',
    u'\U00010400', u'[i]', u'[I]', u'[k]', u'[K]', u'[s]', u'[\u017f]', u'[\u212a]',
    u'[\xb5]', u'[\u03c3]', u'\u03c3', u'\u03a3', u'\u017f', u'\u212a', u'\xb5', u'\u0130',
    u'\u0131', u'\xdf', u'\xc9', u'\xe9', u'[^k]', u'[^\xe9]', u'[^i]',
    u'(?=a)', u'(?=a)a', u'(?!a)', u'(?!a).', u'a(?=b)', u'a(?!b)', u'(?<=a)b',
    u'(?<!a)b', u'(?<=ab)c', u'(?<=a|b)c', u'(?<=a|bc)c', u'(?<=a*)b', u'(?<=a{2})b',
    u'(?<=a{1,2})b', u'(?<=(a))b', u'(?<=\\w)b', u'(?<=\\b)a', u'(?<=^)a', u'(?<=$)',
    u'(?<=(?:ab|cd))e', u'(?<x)', u'(?<=a', u'(a)(?<=\\1)', u'(a)(?<=\\1)a', u'(a)(?<=a\\1)',
    u'(a)(?<=\\1b)', u'(?=a)*', u'(?!a)+b', u'(a)(?(1)b|c)', u'(a)?(?(1)b|c)',
    u'(a)?(?(1)b)', u'(?P<n>a)?(?(n)b|c)', u'(?(1)b|c)', u'(?(1)b|c)(a)', u'(?(2)b|c)(a)',
    u'(?(0)b|c)', u'(?(-1)b|c)', u'(?(a)b|c)', u'(a)?(?(1)b|c|d)', u'(a)?(?(1))',
    u'(a)?(?(1)|c)', u'(a)?(?( 1 )b|c)', u'(a)?(?(+1)b|c)', u'(a)?(?(1x)b|c)',
    u'(a)?(?(1)b|c', u'(a)?(?()b|c)', u'(?t)a', u'(?t)a*', u'a' * 3 + u'|' + u'b',
    u'(' * 30 + u'a' + u')' * 30, u'(?:' * 20 + u'a' + u')' * 20,
    u''.join(u'(%s)' % chr(97 + i % 26) for i in range(99)),
    u''.join(u'(%s)' % chr(97 + i % 26) for i in range(100)),
    u'(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)\\11', u'(a)\\11', u'(a)\\011', u'(a)\\1a',
    u'(a)|\\1', u'(?:(a)|b)\\1', u'(a)*\\1', u'(a*)b\\1', u'(?i)(a)\\1', u'(?i)(\xe9)\\1',
    u'(a)(?P=1)', u'a|b|c', u'ab|ac', u'(?:ab|ac)d', u'x*', u'x+', u'.', u'..', u'^.$',
    u'^.*$', u'(?s)^.*$', u'(?m)^.*$', u'(?ms)^.*$', u'.+', u'^.+$', u'(?s).+',
    u'(?i)[a-z]+', u'(?i)[^a-z]+', u'(?i)[\xe0-\xfe]', u'(?i)\xe9', u'(?iu)\xe9',
    u'(?i)k', u'(?iu)k', u'(?i)s', u'(?iu)s', u'(?iu)\u017f', u'(?iu)\u212a', u'(?iu)\u0131',
    u'(?iu)i', u'(?iu)I', u'(?iu)\u0130', u'(?iu)\xb5', u'(?iu)\u03bc', u'(?iu)\u03c3',
    u'(?iu)\u03a3', u'(?iu)\u03c2', u'(?iu)[\u03c3]', u'(?iu)[^\u03c3]', u'(?iu)[k-k]',
    u'(?iu)[^k]', u'(?iu)[A-Z]', u'(?iu)[\u0400-\u04ff]', u'(?iu)[\U00010400]',
    u'(?iu)\U00010400', u'(?iu)[\U00010400-\U00010410]', u'(?iu)[\U00010428]',
    u'(?i)[\U00010400-\U00010410]', u'(?iu)\\w', u'(?iu)\\W', u'(?iu)[\\W]',
    u'(?i)\\W', u'(?iL)\\w', u'(?iL)\xe9', u'(?uL)\\w', u'(?u)\\d', u'(?u)\\s', u'(?u)\\b',
    u'(?u)\\bfoo\\b', u'(?u)\\B', u'(?u)\\Bx', u'(?u)^\\w+$', u'(?u)^\\W+$', u'(?u)[\\w]+',
    u'(?u)[^\\w]', u'(?u)[\\S]', u'(?u)[\\d]', u'(?u)\\S', u'(?u)\\D',
    u'\\x85', u'\\s\\x85', u'(?u)\\s\\x85', u'(?u)\\s', u'\\s', u'(?m)$', u'(?m)^$',
    u'(?m)^', u'(?m)a$', u'(?m)^b', u'(?m)\\Ab', u'(?m)a\\Z', u'(?m)$\\n', u'$\\n', u'a$\\n',
    u'(?:(?=a))*b', u'(?:(?=a)|^)+b', u'(^)*a', u'(?:^)*a', u'(a)?(?(1)|(?=b))*.',
    u'(?=(a))?\\1', u'(?=(a))??\\1', u'(?=(a)){0}b', u'(?:(?=a)){2,3}a', u'a(?<=a)*',
    u'(?!a)*?b', u'(?=a){0,0}', u'\\b+', u'(\\b)+a', u'(?:$)+', u'(?:\\B)*',
    u'(?:a{1000}){1000}', u'(' * 70 + u'a' + u')' * 70, u'(?:' * 70 + u'a' + u')' * 70,
    u'.{1,100000}', u'a{1000}', u'\\w{1,300}', u'(?:a|b){2000}', u'((a{1,50}){1,50}){1,50}',
    u'a$\\n$', u'\\n\\Z', u'\\n$', u'$$', u'^^', u'a$b', u'(?m)a$\\nb', u'\\Z\\n',
]
for p in SYN:
    add(p, '', GEN)
for p in [u'\\w+', u'\\W', u'\\d', u'\\s', u'\\b\\w', u'\\B', u'[a-z]', u'[^a-z]', u'\xe9',
          u'[\xe9]', u'k', u'K', u's', u'[k]', u'[s-t]', u'(a)\\1', u'(\xe9)\\1', u'\\xe9',
          u'\xc9', u'.', u'^.$', u'caf\xe9', u'[\\w\xe9]+$']:
    for fl in ['i', 'u', 'iu', 'm']:
        add(p, fl, GEN)

BACK = [u'aA', u'aa', u'AA', u'Aa', u'\xe9\xc9', u'\xe9\xe9', u'k\u212a', u'\u212ak',
        u's\u017f', u'\u017fs', u'ss', u'ab', u'\u03c3\u03a3', u'\u03c2\u03c3',
        u'\xb5\u03bc', u'i\u0130', u'\u0130i', u'xAbAB', u'abcABC']
for p in [u'(a)\\1', u'(\\w)\\1', u'(.)\\1', u'(.)\\1$', u'^(..)\\1', u'(?P<x>.)(?P=x)',
          u'(\\w+)\\1']:
    for fl in ['', 'i', 'iu', 'u']:
        add(p, fl, BACK)


# Search shortcuts: a first char that cannot begin a match is passed over
# (with its case pairs under IGNORECASE, beyond ASCII under UNICODE), and
# a leading `.*` is not restarted within a line.
SKIP = [u'', u'k', u'K', u'\u212a', u'xk', u'xK', u'x\u212ax', u'kx', u'Kx', u'\u212ax',
        u's', u'S', u'\u017f', u'x\u017fx', u'sx', u'\u017fx', u'\xb5', u'\u03bc',
        u'\u039c', u'x\xb5x', u'\xb5x', u'\u039cx', u'\xe9x', u'\xc9x', u'\xc9X',
        u'abc k', u'abc\nKx', u'k\n', u'\nk', u'x\ny\nkx', u'\n\n',
        u'a@uplinkpro.com', u'from: a@UPLINKPRO.COM', u'a\n@uplinkpro.com',
        u'x@y\n@uplinkpro.com', u'@uplinkpro.co\nm', u'first line\nb@uplinkpro.com\n',
        u'b@uplinkpro.com\nx', u'friend@public.com', u'To: FRIEND@PUBLIC.COM\n',
        u'fr\u0130end@public.com', u'xx friend@public.co', u'Relay.Comanche.Denmark.EU',
        u'a\nbx\nc', u'bx', u'a\n', u'x', u'xxxx', u'\u0130x', u'ix', u'Ix',
        u'\xe9t\xe9\nx', u'caf\xe9\nCAF\xc9x']
for p in [u'kx', u'Kx', u'\u212ax', u'sx', u'\u017fx', u'\xb5x', u'\u03bcx', u'\u039cx',
          u'\xe9x', u'\xc9x', u'ix', u'\u0130x', u'[ks]x', u'[^a-z]x', u'k*x', u'k+x',
          u'.x', u'x$', u'x\\Z', u'$', u'\\Z', u'x*', u'^x', u'k',
          u'friend@public.com', u'relay.comanche.denmark.eu', u'list@listme.com',
          u'.*@uplinkpro.com', u'.*@uplinkpro.com$', u'.*@uplinkpro\\.com\\Z', u'.+@uplinkpro',
          u'.*x', u'.*kx', u'.*\u212ax', u'.*\xb5', u'.*$', u'.*\n', u'x.*',
          u'(?s).*@uplinkpro.com', u'(?s).*kx', u'(?m).*x$', u'(?m)^.*x$', u'.*(k|b)x',
          u'.*?kx', u'(.*)@uplinkpro', u'(.*)\\1x', u'.*(?<=b)x', u'\\bkx', u'(k|s)x',
          u'k(?=x)', u'(?:kx|\xb5)', u'[k\xb5]x',
          # Programs (not bit-parallel): leading repeats, groups, branches.
          u'[ks]*(x|@)', u'\\w*(x|@)', u'k*(?=x)', u'.*(?=x)', u'.*?(k|x)$', u'(?s).*(k|x)$',
          u'.+(?<=k)x', u'.*\\bx', u'.*(x)\\1', u'(.*)(x)', u'.{2,}(k|x)', u'.*?\\n(k|x)',
          u'.*$\\n^(k|x)', u'(?:.*)(k|@)', u'(k|s)+x', u'(?:k|\xb5|\u03bc)(x|$)',
          u'[^a]*(x|b)', u'(?:ab|k|x)', u'(k)(?:x|$)', u'(?:(k)|(s))x', u'.*\\Z(x)?']:
    for fl in ['', 'i', 'iu', 'm', 'im', 'imu']:
        add(p, fl, SKIP)


def run():
    out = []
    for pattern, fl, name in P:
        subjects = LISTS[name]
        flags = 0
        if 'i' in fl:
            flags |= re.I
        if 'm' in fl:
            flags |= re.M
        if 'u' in fl:
            flags |= re.U
        entry = {'pattern': pattern, 'flags': fl, 'subjects': name}
        subs = []
        for s in subjects:
            uni = 'u' in fl or max([ord(c) for c in pattern + s] + [0]) > 0xFF
            if uni:
                pp, ss = pattern, s
            else:
                pp, ss = pattern.encode('latin-1'), s.encode('latin-1')
            try:
                r = re.compile(pp, flags)
            except Exception as e:
                entry['ok'] = False
                entry['error'] = '%s: %s' % (type(e).__name__, e)
                subs = None
                break
            entry['ok'] = True
            subs.append(str(int(r.search(ss) is not None) +
                            2 * int(r.match(ss) is not None)))
        if subs is not None:
            entry['results'] = ''.join(subs)
        out.append(entry)
    return out


cases = run()
sys.stdout.write('{"subjects": ')
json.dump(LISTS, sys.stdout, sort_keys=True)
sys.stdout.write(',\n"cases": [\n')
sys.stdout.write(',\n'.join(json.dumps(c, sort_keys=True) for c in cases))
sys.stdout.write('\n]}\n')
n = sum(len(c.get('results', '')) for c in cases)
sys.stderr.write('%d patterns, %d subject checks\n' % (len(cases), n))
