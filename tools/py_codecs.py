#!/usr/bin/env python2.7
"""What CPython 2.7's codecs do with mail charsets, for src/py/.

    PYENV_VERSION=2.7.18 python2.7 tools/py_codecs.py units  > /tmp/py-units.txt
    PYENV_VERSION=2.7.18 python2.7 tools/py_codecs.py single > src/py/single_byte.rs
    PYENV_VERSION=2.7.18 python2.7 tools/py_codecs.py names  > src/py/names.rs
    PYENV_VERSION=2.7.18 python2.7 tools/py_codecs.py corpus > tests/py/codecs.txt

`units` lists, for every multibyte codec, what Python makes of each byte
sequence one decoding step can see (one, two, three or four bytes) and of
each BMP code point it encodes; `cargo run --manifest-path
tools/py-codec-diff/Cargo.toml < /tmp/py-units.txt > src/py/cjk_diff.rs` keeps
only where that differs from encoding_rs (the base the crate decodes with).
"""
import codecs
import random
import sys
import encodings.aliases

# Python codec -> the encoding_rs encoding it is decoded on top of.
MULTIBYTE = [
    ('shift_jis', 'Shift_JIS'),
    ('cp932', 'Shift_JIS'),
    ('euc_jp', 'EUC-JP'),
    ('gb2312', 'GBK'),
    ('gbk', 'GBK'),
    ('gb18030', 'gb18030'),
    ('big5', 'Big5'),
    ('euc_kr', 'EUC-KR'),
    ('cp949', 'EUC-KR'),
]
# Decoded by hand in src/py/ (stateful or not in encoding_rs).
HAND = ['ascii', 'latin_1', 'utf_8', 'utf_7', 'utf_16', 'utf_16_le', 'utf_16_be',
        'iso2022_jp']
# Every charmap codec of Python 2.7's encodings package.
SINGLE = ['cp037', 'cp1006', 'cp1026', 'cp1140', 'cp1250', 'cp1251', 'cp1252', 'cp1253',
          'cp1254', 'cp1255', 'cp1256', 'cp1257', 'cp1258', 'cp424', 'cp437', 'cp500',
          'cp720', 'cp737', 'cp775', 'cp850', 'cp852', 'cp855', 'cp856', 'cp857', 'cp858',
          'cp860', 'cp861', 'cp862', 'cp863', 'cp864', 'cp865', 'cp866', 'cp869', 'cp874',
          'cp875', 'iso8859_10', 'iso8859_11', 'iso8859_13', 'iso8859_14', 'iso8859_15',
          'iso8859_16', 'iso8859_2', 'iso8859_3', 'iso8859_4', 'iso8859_5', 'iso8859_6',
          'iso8859_7', 'iso8859_8', 'iso8859_9', 'koi8_r', 'koi8_u', 'mac_arabic',
          'mac_centeuro', 'mac_croatian', 'mac_cyrillic', 'mac_farsi', 'mac_greek',
          'mac_iceland', 'mac_roman', 'mac_romanian', 'mac_turkish', 'tis_620', 'hp_roman8',
          'mac_latin2', 'palmos', 'ptcp154']
# Python has them; src/py/ does not decode them (a header in one of them is
# left for Mailman to decide).
ELSEWHERE = ['base64_codec', 'big5hkscs', 'bz2_codec', 'cp950', 'euc_jis_2004',
             'euc_jisx0213', 'hex_codec', 'hz', 'idna', 'iso2022_jp_1', 'iso2022_jp_2',
             'iso2022_jp_2004', 'iso2022_jp_3', 'iso2022_jp_ext', 'iso2022_kr', 'johab',
             'punycode', 'quopri_codec', 'raw_unicode_escape', 'rot_13', 'shift_jis_2004',
             'shift_jisx0213', 'string_escape', 'unicode_escape', 'unicode_internal',
             'utf_32', 'utf_32_be', 'utf_32_le', 'utf_8_sig', 'uu_codec', 'zlib_codec',
             'charmap', 'undefined', 'mbcs', 'tactis']


def outcome(codec, b):
    """c CP (one character, all bytes used), m (needs more bytes), e LEN."""
    try:
        u = b.decode(codec)
    except UnicodeDecodeError as e:
        if e.start != 0:
            return 'e %d' % e.start  # the first e.start bytes were a unit
        if e.reason == 'incomplete multibyte sequence' and e.end == len(b):
            return 'm'
        return 'e %d' % (e.end - e.start)
    if len(u) == 1:
        return 'c %x' % ord(u)
    # Two characters from two bytes: the first byte alone was a unit.
    return 'e -%d' % len(u[:1].encode(codec))


def units():
    for codec, base in MULTIBYTE:
        print 'codec %s %s' % (codec, base)
        for b0 in range(256):
            s0 = chr(b0)
            o = outcome(codec, s0)
            print '%02x %s' % (b0, o)
            if o != 'm':
                continue
            for b1 in range(256):
                s1 = s0 + chr(b1)
                o = outcome(codec, s1)
                print '%02x%02x %s' % (b0, b1, o)
                if o != 'm' or (codec == 'euc_kr' and s1 == '\xa4\xd4'):
                    # EUC-KR's eight-byte Hangul make-up sequence is decoded
                    # from the jamo tables `names` writes.
                    continue
                if codec == 'gb18030':
                    # The four-byte form: whatever the third byte, Python
                    # reads four; only 0x81-0xFE then 0x30-0x39 can be valid.
                    for b2, b3 in [(0x20, 0x30), (0xff, 0x30), (0x81, 0x81), (0x30, 0x30)]:
                        assert outcome(codec, s1 + chr(b2)) == 'm'
                        assert outcome(codec, s1 + chr(b2) + chr(b3)) == 'e 4'
                    for b2 in range(0x81, 0xff):
                        for b3 in range(0x30, 0x3a):
                            o = outcome(codec, s1 + chr(b2) + chr(b3))
                            print '%02x%02x%02x%02x %s' % (b0, b1, b2, b3, o)
                    continue
                for b2 in range(256):
                    s2 = s1 + chr(b2)
                    o = outcome(codec, s2)
                    print '%02x%02x%02x %s' % (b0, b1, b2, o)
                    if o != 'm':
                        continue
                    for b3 in range(256):
                        o = outcome(codec, s2 + chr(b3))
                        print '%02x%02x%02x%02x %s' % (b0, b1, b2, b3, o)
        for cp in range(0x80, 0x10000):
            if 0xd800 <= cp < 0xe000:
                continue
            try:
                e = unichr(cp).encode(codec)
                print 'u%x %s' % (cp, e.encode('hex'))
            except UnicodeEncodeError:
                print 'u%x -' % cp


def single():
    print '//! Single-byte codecs: what CPython 2.7 decodes each byte to'
    print '//! (0xFFFD: undefined).'
    print '//! Generated by `PYENV_VERSION=2.7.18 python2.7 tools/py_codecs.py single`.'
    print
    print 'pub(crate) static TABLES: &[(&str, [u16; 256])] = &['
    for codec in SINGLE:
        row = []
        for b in range(0x100):
            try:
                row.append(ord(chr(b).decode(codec)))
            except UnicodeDecodeError:
                row.append(0xfffd)
        print '    ("%s", [' % codec
        for i in range(0, 256, 12):
            print '        ' + ' '.join('0x%04x,' % c for c in row[i:i + 12])
        print '    ]),'
    print '];'


def names():
    print '//! Every name CPython 2.7\'s codec lookup accepts for the codecs in'
    print '//! src/py/, normalised as `encodings.normalize_encoding` leaves them'
    print '//! (the module name itself and `encodings.aliases`).'
    print '//! Generated by `PYENV_VERSION=2.7.18 python2.7 tools/py_codecs.py names`.'
    print
    mods = HAND + [c for c, _ in MULTIBYTE] + SINGLE
    for table, wanted in [('NAMES', mods), ('ELSEWHERE', ELSEWHERE)]:
        pairs = []
        for m in wanted:
            try:
                codecs.lookup(m)
            except LookupError:
                continue  # not on this platform (mbcs)
            pairs.append((m, m))
        for alias, m in encodings.aliases.aliases.items():
            if m in wanted:
                pairs.append((alias, m))
        pairs.sort()
        print 'pub(crate) static %s: &[(&str, &str)] = &[' % table
        for a, m in pairs:
            print '    ("%s", "%s"),' % (a, m)
        print '];'
    # KS X 1001:1998 Annex 3: the initial and final jamo of EUC-KR's
    # make-up sequence (0xA4D4, then three 0xA4xx), as Python decodes them.
    cho, jong = [], []
    for c in range(0xa1, 0xbf):
        try:
            u = ('\xa4\xd4\xa4' + chr(c) + '\xa4\xbf\xa4\xd4').decode('euc_kr')
            cho.append((ord(u) - 0xac00) // 588)
        except UnicodeDecodeError:
            cho.append(255)
        try:
            u = ('\xa4\xd4\xa4\xa1\xa4\xbf\xa4' + chr(c)).decode('euc_kr')
            jong.append((ord(u) - 0xac00) % 28)
        except UnicodeDecodeError:
            jong.append(255)
    print 'pub(crate) static EUC_KR_CHOSEONG: [u8; 30] = %s;' % cho
    print 'pub(crate) static EUC_KR_JONGSEONG: [u8; 30] = %s;' % jong


def hexu(u):
    return ' '.join('%x' % ord(c) for c in u) or '-'


def decode_lines(codec, b):
    try:
        strict = 'ok ' + hexu(b.decode(codec))
    except UnicodeDecodeError as e:
        strict = 'err %d %d' % (e.start, e.end)
    rep = hexu(b.decode(codec, 'replace'))
    return 'd %s %s | %s | %s' % (codec, b.encode('hex') or '-', strict, rep)


def encode_lines(codec, u):
    try:
        strict = 'ok ' + (u.encode(codec).encode('hex') or '-')
    except UnicodeEncodeError as e:
        strict = 'err %d %d' % (e.start, e.end)
    rep = u.encode(codec, 'replace').encode('hex') or '-'
    return 'e %s %s | %s | %s' % (codec, hexu(u), strict, rep)


def corpus():
    rnd = random.Random(2718)
    print '# CPython 2.7.18 codec answers; generated by'
    print '# `PYENV_VERSION=2.7.18 python2.7 tools/py_codecs.py corpus`.'
    print '# d CODEC BYTES | strict: ok CHARS or err START END | replace: CHARS'
    print '# e CODEC CHARS | strict: ok BYTES or err START END | replace: BYTES'
    allc = HAND + [c for c, _ in MULTIBYTE] + SINGLE
    for codec in allc:
        for b in range(256):
            print decode_lines(codec, chr(b))
        # Valid sequences: characters Python encodes, decoded back, alone and
        # in runs with ASCII.
        cps = []
        while len(cps) < (60 if codec in SINGLE else 300):
            cp = rnd.choice([rnd.randrange(0x80, 0x3000), rnd.randrange(0x3000, 0xa000),
                             rnd.randrange(0xa000, 0x10000), rnd.randrange(0x10000, 0x30000)])
            if 0xd800 <= cp < 0xe000:
                continue
            try:
                unichr(cp).encode(codec)
            except UnicodeEncodeError:
                if rnd.random() < 0.8:
                    continue
            cps.append(cp)
        for i in range(0, len(cps), 3):
            u = u''.join(unichr(c) for c in cps[i:i + 3])
            print encode_lines(codec, u)
            print encode_lines(codec, u'ab' + u + u'c\n')
            try:
                enc = u.encode(codec)
            except UnicodeEncodeError:
                continue
            print decode_lines(codec, enc)
            print decode_lines(codec, 'x' + enc + 'y')
            print decode_lines(codec, enc[:-1])
        # Invalid and arbitrary sequences.
        for n in range(40 if codec in SINGLE else 400):
            k = rnd.choice([2, 2, 3, 4, 5, 8])
            b = ''.join(chr(rnd.choice([rnd.randrange(256), rnd.randrange(0x80, 0x100),
                                        rnd.choice([0x1b, 0x24, 0x28, 0x42, 0x2b, 0x2d, 0x8e, 0x8f, 0x30, 0xa1, 0xfe, 0xff])]))
                        for _ in range(k))
            print decode_lines(codec, b)
    # iso-2022-jp escapes and utf-7 shifts, by hand.
    for b in ['\x1b$B\x30\x21\x1b(B', '\x1b$B\x30\x21', '\x1b$@\x30\x21\x1b(J\x5c~\x1b(B',
              '\x1b$B\x30', '\x1b$Bx\x1b(B', '\x1b(I\x31', '\x1b$A\x30\x21', '\x1b',
              '\x1b$', '\x1b$B\n\x30\x21', '\x1b$B\x7f\x21\x1b(B', '\x1b$(D\x30\x21',
              '\x1b$B\x21\x40\x1b(B', '\x1b$B\x2d\x21\x1b(B', 'a\x0eb\x0fc']:
        print decode_lines('iso2022_jp', b)
    for b in ['+AGEAYgBj-', '+AGE', '+AGEA-', '+-', '+', 'a+ZeVnLIqe-b', '+2D3cAA-',
              '+2D0-', '+3AA-', '+AG!', '+AGE-x', '~\\', '+AGEAYgBj', '+/v8-', '+AGEAY-',
              '+AG-', '+A-']:
        print decode_lines('utf_7', b)
    for b in ['\xff\xfea\x00', '\xfe\xff\x00a', 'a\x00', '\x00\xd8\x00\xdc', '\x00\xd8a\x00',
              '\x00\xdc', '\x00\xd8', 'a']:
        for c in ['utf_16', 'utf_16_le', 'utf_16_be']:
            print decode_lines(c, b)


if __name__ == '__main__':
    {'units': units, 'single': single, 'names': names, 'corpus': corpus}[sys.argv[1]]()
