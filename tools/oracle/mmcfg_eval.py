# -*- coding: utf-8 -*-
"""Python's own values for the mm_cfg.py corpus of tests/fixtures/mmcfg/.

Each corpus file is run the way Mailman imports mm_cfg: with Mailman 2.1.39's
Defaults on the path (`from Defaults import *`). The final values of the
settings mailman-gate reads are written next to it as NAME.expected.json;
the Rust test (tests/mmcfg_corpus.rs) reads the same file without Python and
must find the same values. Files named error-*.py are ones the reader must
refuse (they set a setting through code); Python's value is still recorded.

    MAILMAN_SRC=/work/oracle/mailman-src PYENV_VERSION=2.7.18 \
        python2.7 tools/oracle/mmcfg_eval.py tests/fixtures/mmcfg/*.py
"""
import glob
import json
import os
import sys
import types
from collections import OrderedDict

KNOWN = ['LIST_DATA_DIR', 'ACCEPTABLE_LISTNAME_CHARACTERS', 'SENDER_HEADERS',
         'USE_ENVELOPE_SENDER', 'KNOWN_SPAMMERS',
         'DEFAULT_MAIL_COMMANDS_MAX_LINES', 'ARCHIVE_HTML_SANITIZER',
         'NORMALIZE_FORM', 'DEFAULT_SERVER_LANGUAGE', 'DMARC_RESOLVER_TIMEOUT',
         'DMARC_RESOLVER_LIFETIME', 'DMARC_ORGANIZATIONAL_DOMAIN_DATA_URL']


def to_json(v):
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, (int, long)):
        return v
    if isinstance(v, float):
        return OrderedDict([('$float', repr(v))])
    if isinstance(v, unicode):
        return OrderedDict([('$unicode', v)])
    if isinstance(v, str):
        return OrderedDict([('$hex', v.encode('hex'))])
    if isinstance(v, tuple):
        return OrderedDict([('$tuple', [to_json(x) for x in v])])
    if isinstance(v, list):
        return [to_json(x) for x in v]
    raise TypeError(repr(v))


def main(paths):
    src = os.environ.get('MAILMAN_SRC', '/work/oracle/mailman-src')
    sys.path.insert(0, os.path.join(src, 'Mailman'))
    import Defaults
    for path in paths:
        # A fresh Defaults for each file (mm_cfg may mutate its lists).
        reload(Defaults)
        ns = {'__name__': 'mm_cfg'}
        try:
            execfile(path, ns)
        except Exception, e:
            ns['__error__'] = '%s: %s' % (e.__class__.__name__, e)
        out = OrderedDict()
        set_here = open(path).read()
        for k in KNOWN:
            if k == 'LIST_DATA_DIR' and k not in set_here:
                continue   # Defaults' own value depends on the installation
            if k in ns:
                out[k] = to_json(ns[k])
        with open(path[:-3] + '.expected.json', 'w') as f:
            json.dump(out, f, indent=1, separators=(',', ': '))
            f.write('\n')


if __name__ == '__main__':
    main(sys.argv[1:] or sorted(glob.glob('tests/fixtures/mmcfg/*.py')))
