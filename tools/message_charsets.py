# Writes src/message/charsets.rs: decoding tables (bytes 0x80-0xFF) of the
# single-byte codecs of CPython 2.7 and their alias names.
# Run: PYENV_VERSION=2.7.18 python2.7 tools/message_charsets.py > src/message/charsets.rs
from encodings.aliases import aliases

CODECS = ['cp1250', 'cp1251', 'cp1252', 'cp1253', 'cp1254', 'cp1255', 'cp1256', 'cp1257',
          'cp1258', 'iso8859_2', 'iso8859_3', 'iso8859_4', 'iso8859_5', 'iso8859_6',
          'iso8859_7', 'iso8859_8', 'iso8859_9', 'iso8859_10', 'iso8859_11', 'iso8859_13',
          'iso8859_14', 'iso8859_15', 'iso8859_16', 'koi8_r', 'koi8_u', 'cp437', 'cp850',
          'cp866', 'mac_roman', 'tis_620']
print('//! Single-byte charsets: decoding of bytes 0x80-0xFF (0xFFFD = undefined)')
print('//! and the names Python\'s codec lookup accepts for them (normalised).')
print('')
print('pub(crate) static TABLES: &[(&[&str], [u16; 128])] = &[')
for c in CODECS:
    names = sorted(set([c] + [a for a, m in aliases.items() if m == c]))
    row = []
    for b in range(128, 256):
        try:
            row.append(ord(chr(b).decode(c)))
        except UnicodeDecodeError:
            row.append(0xfffd)
    print('    (')
    print('        &[%s],' % ', '.join('"%s"' % n for n in names))
    print('        [%s],' % ', '.join('0x%04x' % x for x in row))
    print('    ),')
print('];')
