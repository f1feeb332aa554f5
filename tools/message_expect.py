# -*- coding: utf-8 -*-
"""Expected outputs for tests/message_cases.rs, computed by CPython 2.7's
email package and the Mailman 2.1.39 handler logic (restated here).

Run: PYENV_VERSION=2.7.18 python2.7 tools/message_expect.py > tests/message/cases.json
Byte strings are written as Latin-1 JSON strings (one char per byte).
"""
import json
import re
import sys
from os.path import splitext
from unicodedata import normalize

import email
import email.Header
import email.Iterators
import email.Utils
from email.Errors import HeaderParseError
from email.Iterators import typed_subpart_iterator

NL = '\n'


def L(s):
    return s.decode('latin-1')


# --- SpamDetect.getDecodedHeaders ---------------------------------------
def decoded_headers(msg):
    headers = u''
    for h, v in msg.items():
        uvalue = u''
        try:
            v = email.Header.decode_header(re.sub('\n\s', ' ', v))
        except HeaderParseError:
            v = [(v, 'us-ascii')]
        for frag, cs in v:
            if not cs:
                cs = 'us-ascii'
            try:
                uvalue += unicode(frag, cs, 'replace')
            except LookupError:
                uvalue += unicode(frag, 'iso-8859-1', 'replace')
        headers += u'%s: %s\n' % (h, normalize('NFKC', uvalue))
    return headers


def header_filter_text(msg):
    out = u''
    for p in msg.walk():
        out += decoded_headers(p)
    return out


# --- Approve.py body search -----------------------------------------------
def body_approval(msg):
    missing = []
    for hdr in ('approved', 'approve', 'x-approved', 'x-approve'):
        passwd = msg.get(hdr, missing)
        if passwd is not missing:
            return None
    part = None
    for part in typed_subpart_iterator(msg, 'text', 'plain'):
        break
    if part is None or part.get_payload() is None:
        return None
    lines = part.get_payload(decode=True).splitlines()
    line = ''
    for lineno, line in zip(range(len(lines)), lines):
        if line.strip():
            break
    i = line.find(':')
    if i < 0:
        return None
    name = line[:i]
    value = line[i + 1:]
    if name.lower() not in ('approve', 'approved', 'x-approve', 'x-approved'):
        return None
    passwd = value.lstrip()
    del lines[lineno]
    reset_payload(part, NL.join(lines))
    pattern = name + ':(\xA0|\s|&nbsp;)*' + re.escape(passwd)
    for part in typed_subpart_iterator(msg, 'text'):
        if part is not None and part.get_payload() is not None:
            text = part.get_payload(decode=True)
            if re.search(pattern, text):
                pass
            elif re.search(pattern, re.sub('(?s)<.*?>', '', text)):
                return [L(passwd), True]
    return [L(passwd), False]


def reset_payload(part, payload):
    cset = part.get_content_charset() or 'us-ascii'
    ctype = part.get_content_type()
    format = part.get_param('format')
    delsp = part.get_param('delsp')
    del part['content-transfer-encoding']
    del part['content-type']
    part.set_payload(payload, cset)
    part.set_type(ctype)
    if format:
        part.set_param('Format', format)
    if delsp:
        part.set_param('DelSp', delsp)


# --- Utils.is_administrivia ------------------------------------------------
ADMINDATA = {
    'confirm': (1, 1), 'help': (0, 0), 'info': (0, 0), 'lists': (0, 0),
    'options': (0, 0), 'password': (2, 2), 'remove': (0, 0), 'set': (3, 3),
    'subscribe': (0, 3), 'unsubscribe': (0, 1), 'who': (0, 1),
}


def is_administrivia(msg, maxlines=25):
    linecnt = 0
    lines = []
    for line in email.Iterators.body_line_iterator(msg):
        if line == '-- ':
            break
        if line.strip():
            linecnt += 1
        if linecnt > maxlines:
            return False
        lines.append(line)
    bodytext = NL.join(lines)
    if bodytext.strip().lower() in ADMINDATA:
        return True
    bodylines = lines[:5]
    bodylines.append(str(msg.get('subject', '')))
    for line in bodylines:
        if not line.strip():
            continue
        words = [w.lower() for w in line.split()]
        minargs, maxargs = ADMINDATA.get(words[0], (None, None))
        if minargs is None and maxargs is None:
            continue
        if minargs <= len(words[1:]) <= maxargs:
            if words[0] == 'set' and words[2] not in ('on', 'off'):
                continue
            return True
    return False


# --- Hold.py size --------------------------------------------------------
def body_size(msg):
    n = 0
    for line in email.Iterators.body_line_iterator(msg):
        n += len(line)
    for part in msg.walk():
        if part.preamble:
            n += len(part.preamble)
        if part.epilogue:
            n += len(part.epilogue)
    return n


# --- MimeDel.py dispose decision ------------------------------------------
def oneline(s, cset):
    try:
        h = email.Header.make_header(email.Header.decode_header(s))
        ustr = h.__unicode__()
        line = u''.join(ustr.splitlines())
        return line.encode(cset, 'replace')
    except (LookupError, UnicodeError, ValueError, HeaderParseError):
        return ''.join(s.splitlines())


def get_file_ext(m):
    fext = ''
    filename = m.get_filename('') or m.get_param('name', '')
    if filename:
        fext = splitext(oneline(filename, 'utf-8'))[1]
        if len(fext) > 1:
            fext = fext[1:]
        else:
            fext = ''
    return fext.lower()


def filter_parts(msg, ft, pt, fe, pe):
    if not msg.is_multipart():
        return 1
    payload = msg.get_payload()
    prelen = len(payload)
    newpayload = []
    for subpart in payload:
        keep = filter_parts(subpart, ft, pt, fe, pe)
        if not keep:
            continue
        ctype = subpart.get_content_type()
        mtype = subpart.get_content_maintype()
        if ctype in ft or mtype in ft:
            continue
        if pt and not (ctype in pt or mtype in pt):
            continue
        fext = get_file_ext(subpart)
        if fext:
            if fext in fe:
                continue
            if pe and not (fext in pe):
                continue
        newpayload.append(subpart)
    msg.set_payload(newpayload)
    if len(newpayload) == 0 and prelen > 0:
        return 0
    return 1


def mime_disposal(msg, ft, pt, fe, pe):
    ctype = msg.get_content_type()
    mtype = msg.get_content_maintype()
    if ctype in ft or mtype in ft:
        return "The message's content type was explicitly disallowed"
    if pt and not (ctype in pt or mtype in pt):
        return "The message's content type was not explicitly allowed"
    fext = get_file_ext(msg)
    if fext:
        if fext in fe:
            return "The message's file extension was explicitly disallowed"
        if pe and not (fext in pe):
            return "The message's file extension was not explicitly allowed"
    if msg.is_multipart():
        prelen = len(msg.get_payload())
        filter_parts(msg, ft, pt, fe, pe)
        if len(msg.get_payload()) == 0 and prelen > 0:
            return "After content filtering, the message was empty"
    return None


FILTERS = [
    ([], [], [], []),
    (['image'], [], [], []),
    (['text/html', 'application/octet-stream'], [], [], []),
    ([], ['text/plain', 'multipart'], [], []),
    ([], ['text', 'multipart/mixed', 'message/rfc822'], [], []),
    ([], [], ['exe', 'bat', 'zip'], []),
    ([], [], [], ['txt', 'pdf']),
    (['multipart/alternative'], [], [], []),
    (['text/plain'], [], ['exe'], []),
    ([], ['multipart', 'application/pdf'], [], ['pdf']),
]


def run_message(raw):
    out = {'raw': L(raw)}
    msg = email.message_from_string(raw)
    u = msg.get_unixfrom()
    try:
        out['unixfrom_address'] = L(u.split()[1]) if u else None
    except IndexError:
        out['unixfrom_address'] = None
    out['headers'] = [[L(k), L(v)] for k, v in msg.items()]
    out['content_type'] = L(msg.get_content_type())
    out['header_filter_text'] = header_filter_text(msg)
    out['is_administrivia'] = is_administrivia(msg)
    out['body_size'] = body_size(msg)
    out['structure'] = structure(msg)
    out['mime'] = []
    for ft, pt, fe, pe in FILTERS:
        m = email.message_from_string(raw)
        out['mime'].append(mime_disposal(m, ft, pt, fe, pe))
    m = email.message_from_string(raw)
    out['body_approval'] = body_approval(m)
    return out


def structure(msg):
    """Walk order: (content type, payload length or -1, preamble, epilogue)."""
    res = []
    for p in msg.walk():
        pl = p.get_payload()
        res.append([L(p.get_content_type()),
                    len(pl) if isinstance(pl, str) else -1,
                    None if p.preamble is None else L(p.preamble),
                    None if p.epilogue is None else L(p.epilogue)])
    return res


exec(open(__file__.replace('message_expect.py', 'message_corpus.py')).read())

cases = {'messages': [run_message(r) for r in MESSAGES], 'addresses': []}
for vals in ADDRESS_VALUES:
    if isinstance(vals, str):
        vals = [vals]
    cases['addresses'].append({
        'values': [L(v) for v in vals],
        'getaddresses': [[L(a), L(b)] for a, b in email.Utils.getaddresses(vals)],
        'parseaddr': [L(x) for x in email.Utils.parseaddr(vals[0])],
    })
json.dump(cases, sys.stdout, indent=0, sort_keys=True)
