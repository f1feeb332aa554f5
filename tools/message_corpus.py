# -*- coding: utf-8 -*-
# Corpus for tools/message_expect.py (executed by it; defines MESSAGES and
# ADDRESS_VALUES as byte strings).
import base64 as _b64

MESSAGES = []


def M(s):
    MESSAGES.append(s)


H = 'From: a@example.com\nTo: list@example.com\nSubject: hi\n'

# header splitting oddities
M('From MAILER-DAEMON Mon Jan  1 00:00:00 2024\n' + H + '\nbody\n')
M('From bob@x.org  Tue Feb 2 2021\nFrom: Bob <bob@x.org>\n\nhello\n')
M('From \nFrom: x@y\n\nb\n')
M('From: a@x\nFrom : b@x\nSubject: t\n\nbody\n')
M('From: a@x\nSubject: folded\n\tline two\n  line three\nTo: c@x\n\nbody\n')
M('From: a@x\r\nSubject: crlf\r\n\tcont\r\nTo: b@x\r\n\r\nbody\r\nline2\r\n')
M('From: a@x\nX-Bad header line\nTo: b@x\n\nbody\n')
M('From: a@x\nTo: b@x\nFrom b@x misplaced\nSubject: s\n\nbody\n')
M('From: a@x\nSubject: s\nFrom b@x last\n\nbody\n')
M('From: a@x\nSubject: s\nFrom b@x last\nnot a header\nmore\n')
M(' leading continuation\nFrom: a@x\n\nbody\n')
M('From: a@x\nSubject:\nTo:   spaced@x   \n\nbody')
M('From: a@x\nSubject: no body')
M('From: a@x\nSubject: empty body\n\n')
M('')
M('\n\nbody only\n')
M('just text no headers\n')
M('From: a@x\nSubject: cr only\rTo: b@x\r\rbody\r')
M('From: a@x\nX-Empty-Cont:\n\tvalue after fold\n\nb\n')
M('From: a@x\nSubject: trailing  \t\nX-Null: a\x00b\n\nb\x00ody\n')
M('From: a@x\nSubject: latin \xe9\xe8 bytes\nX-Utf8: caf\xc3\xa9\n\nb\n')
M('From: a@x\nsubject: lower\nSUBJECT: upper\nSubject: mixed\n\nb\n')
M('From: a@x\nX-Weird!#$%: v\nX-Colon:: double\n\nb\n')
M('From: a@x\nSubject: a\n \n\tb\n\nbody\n')

# encoded headers
for v in ['=?utf-8?q?caf=C3=A9?=', '=?iso-8859-1?q?caf=E9_au_lait?=',
          '=?utf-8?b?Y2Fmw6k=?=', '=?UTF-8?B?Y2Fmw6k?=',
          '=?x-unknown?q?caf=E9?=', '=?utf-8?b?!!!?=', '=?utf-8?b?Q?=',
          'plain =?utf-8?q?A?= =?utf-8?q?B?= tail',
          '=?utf-8?q?one?=\n =?iso-8859-1?q?two=E9?=',
          '=?utf-8?q?bad=FF=FEutf?=', '=??q?empty_cs?=',
          '=?utf-8?q?no_space?=after', 'a=?utf-8?q?x?= b',
          '=?windows-1252?q?=80uro_=93q=94?=', '=?iso-8859-15?q?=A4?=',
          '=?koi8-r?q?=C1?=', '=?utf-8?q?=EF=BC=A1fullwidth?=',
          '=?us-ascii?q?hi=?= there', '=?utf-8?b?4pGg?= circled',
          'x =?utf-8*en?q?lang?=', '=?utf-8?Q?a?= =?utf-8?Q?b?=',
          '=?utf-8?q?a?=\r\n\t=?utf-8?q?b?=', 'raw \xff byte =?utf-8?q?x?=',
          '=?latin1?b?6Q==?=', '=?utf8?q?=E2=82?=']:
    M('From: a@x\nSubject: ' + v + '\nTo: b@x\n\nbody\n')

# body approval
M(H + '\nApproved: secret\nrest\n')
M(H + '\n\n  \nApprove:   pw with space \nrest\n')
M(H + '\nX-Approved:pw\n')
M(H + '\nx-approve : pw\n')
M(H + '\nApproved : pw\n')
M(H + '\nhello\nApproved: pw\n')
M(H + 'Approved: hdr\n\nApproved: body\n')
M(H + 'X-Approve:\n\nApproved: body\n')
M(H + 'Content-Transfer-Encoding: base64\n\n' + _b64.encodestring('Approved: b64pw\nbody\n'))
M(H + 'Content-Transfer-Encoding: quoted-printable\n\nApproved: q=3Dp=\nw\nbody=20\n')
M(H + 'Content-Transfer-Encoding: base64\n\nnot base64!\n')
M(H + 'Content-Type: text/html\n\nApproved: htmlonly\n')
ALT = ('Content-Type: multipart/alternative; boundary="XX"\n\n--XX\n'
       'Content-Type: text/plain\n\n%s\n--XX\nContent-Type: text/html\n\n%s\n--XX--\n')
M(H + ALT % ('Approved: pw\nbody', '<p>Approved: pw</p><p>body</p>'))
M(H + ALT % ('Approved: pw\nbody', '<p>Approved:<b> pw</b></p>'))
M(H + ALT % ('Approved: pw\nbody', '<p>Approved:&nbsp;pw</p>'))
M(H + ALT % ('Approved: pw\nbody', '<p>Approved:\xa0 pw</p>'))
M(H + ALT % ('Approved: pw\nbody', '<p>nothing</p>'))
M(H + ALT % ('Approved: pw\nbody', '<p>Approved: <span>p</span>w</p>'))
M(H + ALT % ('body first\nApproved: pw', '<p>Approved:<b> pw</b></p>'))
M(H + 'Content-Type: multipart/alternative; boundary="XX"\n\n--XX\nContent-Type: text/html\n\n'
  '<i>Approved</i>: pw\n--XX\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n'
  + _b64.encodestring('Approved: pw\nbody\n') + '--XX--\n')
M(H + 'Content-Type: multipart/mixed; boundary=b1\n\n--b1\nContent-Type: image/png\n\nxx\n--b1\n'
  'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n'
  'Approved: caf=C3=A9\n--b1\nContent-Type: text/html\n\nApproved: caf\xc3\xa9 <br>\n--b1--\n')
M(H + 'Content-Type: multipart/mixed; boundary=b1\n\n--b1\nContent-Type: text/plain\n\n'
  'Approved: pw\nsecond Approved:<b>pw</b>\n--b1--\n')

# administrivia
for body in ['subscribe\n', 'Subscribe\n', '  unsubscribe  \n\n', 'help\n', 'help me please\n',
             'who knows\n', 'who\n', 'confirm abc123\n', 'confirm\n', 'password old new\n',
             'password x\n', 'set digest on\n', 'set digest maybe\n', 'set digest\n',
             'subscribe a b c\n', 'subscribe a b c d\n', 'lists\n', 'info\n', 'options\n',
             'remove\n', 'remove me\n', 'unsubscribe me@x\n', 'unsubscribe a b\n',
             'hello\nsubscribe\n', 'a\nb\nc\nd\ne\nsubscribe\n', 'a\nb\nc\nd\nsubscribe\n',
             'subscribe\n-- \nsig\n', 'subscribe\n-- ', 'x\n-- ', 'text\n' * 30,
             'text\n' * 25 + '\n\n', 'text\n' * 26, '\n\n\nhelp\n\n',
             'HELP\n', 'who\tknows\n', 'set\ta\tb\toff\n']:
    M('From: a@x\nSubject: normal\n\n' + body)
for subj in ['subscribe', 'unsubscribe me', 'Re: subscribe', 'set a b on', 'help', 'help me',
             '', '   ']:
    M('From: a@x\nSubject: ' + subj + '\n\nhello there\n')
M('From: a@x\n\nhello there\n')
M('From: a@x\nSubject: x\nContent-Type: multipart/mixed; boundary=zz\n\npre\n--zz\n\nsubscribe\n--zz--\n')
M('From: a@x\nSubject: x\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\n\nhello\n--zz\n'
  'Content-Type: text/html\n\nunsubscribe\n--zz--\nepi\n')

# MIME structure, sizes, preamble/epilogue
MP = 'From: a@x\nSubject: mp\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="%s"\n\n'
M(MP % 'b' + 'preamble line\n\n--b\nContent-Type: text/plain\n\nhello\n--b\nContent-Type: '
  'application/octet-stream; name="x.EXE"\n\nMZ\n--b--\nepilogue\n')
M(MP % 'b' + '--b\n\nno preamble\n--b--\n')
M(MP % 'b' + '--b\n\nno end boundary\n')
M(MP % 'b' + 'no boundary at all\n')
M(MP % 'b' + '--b--\nonly end\n')
M(MP % 'b' + '--b\n--b\n\ndouble boundary\n--b--\n\n\n')
M(MP % 'b' + '--b  \t\n\nws after boundary\n--b-- \nx\n')
M(MP % 'b' + '--b\r\n\r\ncrlf part\r\n--b--\r\nepi\r\n')
M(MP % 'b' + '--bx\n\nprefix boundary\n--b\n\nreal\n--b--\n')
M('From: a@x\nContent-Type: multipart/mixed\n\nno boundary param\n')
M('From: a@x\nContent-Type: multipart/mixed; boundary=""\n\n--\n\nempty\n----\n')
M('From: a@x\nContent-Type: multipart/mixed; boundary=<ang>\n\n--ang\n\nx\n--ang--\n')
M('From: a@x\nContent-Type: multipart/mixed; boundary="a;b"; charset=x\n\n--a;b\n\nx\n--a;b--\n')
M('From: a@x\nContent-Type: multipart/mixed; boundary*=us-ascii\'en\'r%41w\n\n--rAw\n\nx\n--rAw--\n')
M('From: a@x\nContent-Type: multipart/mixed; boundary*0=ab; boundary*1=cd\n\n--abcd\n\nx\n--abcd--\n')
M('From: a@x\nContent-Type: multipart/mixed; BOUNDARY = "sp ace "\n\n--sp ace\n\nx\n--sp ace--\n')
M('From: a@x\nContent-Type: Multipart/Mixed; boundary=o\n\n--o\nContent-Type: multipart/alternative; '
  'boundary=i\n\ninner pre\n--i\n\nalt1\n--i\nContent-Type: text/html\n\n<b>alt2</b>\n--i--\n'
  'inner epi\n\n--o\nContent-Type: image/gif; name=a.gif\nContent-Disposition: attachment; '
  'filename="pic.GIF"\n\nGIF\n--o--\n')
M('From: a@x\nContent-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/mixed; '
  'boundary=i\n\n--i\n\nin\n--o\n\nouter continues\n--o--\n')
M('From: a@x\nContent-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: message/rfc822\n\n'
  'From: in@x\nSubject: =?utf-8?q?inner_=C3=A9?=\nContent-Type: text/plain\n\ninner body\n\n--o--\n')
M('From: a@x\nContent-Type: message/rfc822\n\nFrom: in@x\nSubject: inner\n\nbody\n')
M('From: a@x\nContent-Type: multipart/report; boundary=r\n\n--r\n\nreport\n--r\n'
  'Content-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\nFinal-Recipient: rfc822; y\n'
  'Action: failed\n\n--r--\n')
M('From: a@x\nContent-Type: multipart/digest; boundary=d\n\n--d\n\nFrom: d1@x\nSubject: one\n\n'
  'digest one\n--d\nContent-Type: text/plain\n\nplain in digest\n--d--\n')
M('From: a@x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/pdf; '
  'name="=?utf-8?q?r=C3=A9sum=C3=A9.pdf?="\n\n%PDF\n--b\nContent-Type: text/plain\n'
  'Content-Disposition: attachment; filename*=utf-8\'\'na%C3%AFve.txt\n\ntext\n--b\n'
  'Content-Type: application/octet-stream\nContent-Disposition: attachment; filename=".bashrc"\n\n'
  'x\n--b\nContent-Type: application/zip; name=arch.zip\n\nPK\n--b--\n')
M('From: a@x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: image/png\n\nx\n'
  '--b\nContent-Type: image/jpeg\n\ny\n--b--\n')
M('From: a@x\nContent-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/html\n\n'
  '<p>x</p>\n--b--\n')
M('From: a@x\nContent-Type: image/png\n\nPNG\n')
M('From: a@x\nContent-Type: application/octet-stream; name="file.txt"\n\ndata\n')
M('From: a@x\nContent-Type: text/plain\nContent-Disposition: attachment; filename=virus.exe\n\nx\n')
M('From: a@x\nContent-Type: text\n\ninvalid type\n')
M('From: a@x\nContent-Type: text/plain/extra; charset=x\n\ninvalid type\n')
M('From: a@x\nContent-Type: \n\nempty type\n')
M('From: a@x\nContent-Type: text/plain\nContent-Type: text/html\n\ntwo types\n')
M('From: a@x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\n'
  'Content-Type: multipart/mixed; boundary=c\n\n--c\nContent-Type: image/png\n\nx\n--c--\n--b--\n')
M('From: a@x\nContent-Type: multipart/signed; boundary=s\n\n--s\n\nsigned text\n--s\n'
  'Content-Type: application/pgp-signature\n\nSIG\n--s--\n')
M('From: a@x\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\n\n--b\n\n\n\n--b--\n\n')
M('From: a@x\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nx\r\n--b\r\n\r\ny\r--b--')
M('From: a@x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/mixed; boundary=c\n\n'
  '--c\n\nx\n--c--\n\n--b--\n')
M('From: a@x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/mixed; boundary=c\n\n'
  'no inner start\n--b--\n')
M('From: a@x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/mixed\n\n'
  'no inner boundary\n--b--\n')

# address values
ADDRESS_VALUES = [
    '', ' ', 'a@x', 'A@X.ORG', '<>', '<a@x>', 'John <john@x>', '"John Q" <john@x>',
    'John Smith john@x', 'john@x (John Smith)', 'john@x (nested (comment) here)',
    '"quoted, comma" <q@x>', 'a@x, b@y', 'a@x,,b@y', ',', ',,', 'a@x;b@y',
    'group: a@x, c@y;', 'group: a@x, c@y; d@z', 'undisclosed-recipients:;', 'grp: a@x',
    'grp:', '<@relay1,@relay2:john@x>', '<@relay:john@x>', 'john@[1.2.3.4]',
    '"john doe"@example.com', 'a.b.c@d.e.f', 'a . b @ c . d', 'a@b@c', '@x', 'a@',
    'john', 'John Doe', '=?utf-8?q?Doe=2C_John?= <d@x>', '"unterminated <a@x>',
    '<unterminated@x', '(unterminated comment a@x', 'a@x>', '>', '<', '"', '\\', 'a\\@x',
    '"a\\"b" <c@x>', 'a@x\x00b', 'Name\x00 <n@x>', 'caf\xc3\xa9 <c@x>', 'x@\xe9t\xe9.fr',
    'a@x\n\tb@y', 'a@x\r\n b@y', 'Joe <joe@x> (comment)', '(comment) Joe <joe@x>',
    'a@x (c1) (c2)', '[1.2.3.4]', 'a@[unterminated', 'a:b@c', 'a.@x', '.a@x', 'a..b@x',
    'a@x.', '"" <e@x>', 'x <y> z', 'mailer-daemon', 'a@x <b@y>', 'one two <t@x>',
    ['a@x', 'b@y'], ['', 'b@y'], ['g: a@x', 'b@y;'], ['x', ''],
    ', '.join(['user%d@example.com' % i for i in range(10000)]),
    'g: ' * 50 + 'a@x',
]

# seeded random corpora: MIME line soup, UTF-8 / base64 / QP decoders
import random as _r
_rng = _r.Random(2139)
_VOCAB = ['From: a@x\n', 'From x@y date\n', 'Subject: s\n', '\tcont\n', ' cont\r\n', '\n', '\r\n',
          '\r', 'body text\n', 'Content-Type: multipart/mixed; boundary=b\n',
          'Content-Type: multipart/alternative; boundary="c"\n', 'Content-Type: message/rfc822\n',
          'Content-Type: text/html\n', 'Content-Type: multipart/digest; boundary=b\n',
          'Content-Type: message/delivery-status\n', '--b\n', '--b--\n', '--c\n', '--c--\r\n',
          '--b \n', '--b--', '--c', 'no colon line\n', 'X-H: v\r\n', 'subscribe\n', '-- ',
          'Content-Transfer-Encoding: base64\n', 'QXBwcm92ZWQ6IHB3Cg==\n', 'Approved: pw\n',
          '<b>Approved:</b> pw\n']
for _ in range(120):
    M(''.join(_rng.choice(_VOCAB) for _ in range(_rng.randint(1, 25))))
for _ in range(40):
    _bytes = ''.join(chr(_rng.choice([_rng.randint(0, 255), _rng.randint(0x80, 0xbf),
                                      _rng.randint(0xc0, 0xf7), 0x41]))
                     for _ in range(_rng.randint(1, 12)))
    M('From: a@x\nSubject: =?utf-8?b?' + _b64.b64encode(_bytes) + '?=\n\nx\n')
_B64 = 'ABCDabcd0189+/=  .!\n'
for _ in range(30):
    _t = ''.join(_rng.choice(_B64) for _ in range(_rng.randint(0, 10)))
    M('From: a@x\nSubject: =?utf-8?b?' + _t.replace('\n', '') + '?=\nContent-Transfer-Encoding: base64\n\n'
      + _b64.b64encode('Approved: ') + _t + '\n')
_QP = 'ab=3D=3d=4=G1=\n=\r\n= \t_\r\n'
for _ in range(30):
    _t = ''.join(_rng.choice(_QP) for _ in range(_rng.randint(0, 14)))
    M('From: a@x\nSubject: =?iso-8859-1?q?' + _t.replace('\n', '').replace('\r', '') +
      '?=\nContent-Transfer-Encoding: quoted-printable\n\nApproved: ' + _t + 'end\n')
# Runs of blank lines (longer than 32 bytes: the whitespace scan passes
# them by blocks) in every line-end style, around Approve lines, tags and
# command words, in plain, base64 and multipart bodies.
_WS = [' ', '\t', '\n', '\r', '\r\n', '\x0b', '\x0c', '\n' * 40, '\r' * 33, ' \t' * 20,
       '\r\n' * 17, 'x', '-- ', 'Approved: pw', 'approve:pw', '<b>', '</b>', '<', '>',
       'subscribe', 'set x on', 'Approved: <i>pw</i>', '\xa0', '&nbsp;']
_rng2 = _r.Random(3313)
for _ in range(60):
    _t = ''.join(_rng2.choice(_WS) for _ in range(_rng2.randint(1, 30)))
    _kind = _rng2.randint(0, 2)
    if _kind == 0:
        M(H + '\n' + _t)
    elif _kind == 1:
        M(H + 'Content-Transfer-Encoding: base64\n\n' + _b64.encodestring(_t))
    else:
        _u = ''.join(_rng2.choice(_WS) for _ in range(_rng2.randint(1, 30)))
        M(H + ALT % (_t, _u))
for _ in range(20):
    _pre = ''.join(_rng2.choice(_WS[:11]) for _ in range(_rng2.randint(0, 8)))
    _html = _rng2.choice(['Approved:<b> pw</b>', 'Approved: <i>p</i>w', 'Approved:&nbsp;<b>pw',
                          'Appro<x>ved: pw', 'Approved: pw'])
    M(H + ALT % (_pre + 'Approved: pw' + _rng2.choice(['\n', '\r', '\r\n']) + _pre + 'body',
                 _pre + _html + _rng2.choice(['', '<', '>', '\r\n'])))
