# -*- coding: utf-8 -*-
# Hostile cases: settings a list admin can type into Mailman's web UI
# (odd, invalid and costly regular expressions in header_filter_rules,
# bounce_matching_headers, the nonmember lists and acceptable_aliases; edge
# values of the size and recipient limits) and messages any stranger can
# send (NUL bytes, 8-bit and broken encoded headers, duplicate and odd
# address headers, Approved: in odd places, broken MIME). Python 2 syntax;
# executed by cases_def.py in its namespace (case(), M(), gen2(), fcase()).
#
# A case marked gate_undecided is one whose answer the gate cannot reach
# within its bounds: it must say undecided (the MTA accepts), never refuse.

NM = 'x@foo.org'
HOLD, REJECT, DISCARD, ACCEPT, DEFER = 7, 2, 3, 6, 0


def hr(*rules):
    """header_filter_rules from (pattern, action) pairs."""
    return {'header_filter_rules': [[p, a, False] for p, a in rules]}


# ---- header_filter_rules: odd syntax Python 2 accepts or refuses ----------
case('hx01-verbose-comment', '(?x) rule with spaces and a # comment (hold), Subject: buy now',
     M(subject='buy now'), hr(('(?x) ^subject: \\s* buy  # spam words', HOLD)))
case('hx02-inline-i-middle', 'global (?i) in the middle of a rule (discard)',
     M(subject='FOO bar'), hr(('^subject: (?i)foo', DISCARD)))
case('hx03-locale-flag', '(?L) rule (reject) matching',
     M(subject='locale test'), hr(('(?L)^subject: locale\\b', REJECT)))
case('hx04-unicode-flag', '(?u) rule with \\w+$ (hold)',
     M(subject='word'), hr(('(?u)^subject: \\w+$', HOLD)))
case('hx05-possessive-first-then-discard', 'a++ (Python 2: multiple repeat) first, then a discard rule that matches',
     M(subject='aaa'), hr(('^subject: a++', REJECT), ('^subject: a', DISCARD)))
case('hx06-possessive-only', 'only rule a*+ (invalid in Python 2): accepted',
     M(subject='aaa'), hr(('^subject: a*+', REJECT)))
case('hx07-brace-no-min', '{,5} is {0,5} in Python 2 (hold), Subject xxy',
     M(subject='xxy'), hr(('^subject: x{,5}y$', HOLD)))
case('hx08-brace-literal', 'a{b is a literal brace (hold)',
     M(subject='a{b'), hr(('^subject: a{b', HOLD)))
case('hx09-lookbehind', 'fixed-width lookbehind (reject)',
     M(subject='spam here'), hr(('(?<=subject: )spam', REJECT)))
case('hx10-lookbehind-variable', 'variable-width lookbehind (error in Python 2) then nothing: accepted',
     M(subject='bcx'), hr(('(?<=a|bc)x', REJECT)))
case('hx11-backref', 'backreference \\1 (hold), Subject hi hi',
     M(subject='hi hi'), hr(('^subject: (\\w+) \\1$', HOLD)))
case('hx12-named-backref', '(?P<n>..)(?P=n) (discard)',
     M(subject='abab'), hr(('^subject: (?P<n>ab)(?P=n)', DISCARD)))
case('hx13-octal-escape', '\\101 octal escape under re.I (hold), Subject abc',
     M(subject='abc'), hr(('^subject: \\101BC', HOLD)))
case('hx14-u-escape-literal', '\\u0041 in a str pattern is u0041 in Python 2 (hold)',
     M(subject='u0041'), hr(('^subject: \\u0041', HOLD)))
case('hx15-u-escape-not-A', '\\u0041 does not match A (hold rule not matching)',
     M(subject='A'), hr(('^subject: \\u0041', HOLD)))
case('hx16-end-Z', '\\Z after the Subject (last header) (hold)',
     M(subject='end', to=None, extra=[]), hr(('^subject: end\\Z', HOLD)))
case('hx17-bad-range-then-accept', '[z-a] (bad range) skipped, then ACCEPT, then a matching reject',
     M(subject='zz'), hr(('^subject: [z-a]', REJECT), ('^from: alice', ACCEPT), ('^subject: z', REJECT)))
case('hx18-conditional-group', '(?(1)...) conditional group (hold), Subject <hi>',
     M(subject='<hi>'), hr(('^subject: (<)?\\w+(?(1)>)$', HOLD)))
case('hx19-atomic-group', '(?>...) (error in Python 2): accepted',
     M(subject='abc'), hr(('^subject: (?>abc)', DISCARD)))
case('hx20-posix-class', '[[:alpha:]] is a set then a ] in Python (hold), Subject a]',
     M(subject='a]'), hr(('^subject: [[:alpha:]]', HOLD)))
case('hx21-posix-class-no-bracket', '[[:alpha:]] does not match a plain word (hold rule not matching)',
     M(subject='abc'), hr(('^subject: [[:alpha:]]$', HOLD)))
case('hx22-bad-interval', '.{2,1} (bad repeat interval) only: accepted',
     M(subject='abc'), hr(('^subject: .{2,1}', DISCARD)))
case('hx23-inline-comment', '(?#...) inline comment (reject)',
     M(subject='hello'), hr(('^subject: (?#greeting)hello', REJECT)))
case('hx24-negative-lookahead-multiline', '^(?!subject:).*viagra over all header lines (hold)',
     M(extra=['X-Mailer: viagra-mailer']), hr(('^(?!subject:).*viagra', HOLD)))
fcase('hx25-exponential-alternation', '(a|a)+$ over 22 a and a b: Python backtracks 2^22 (hold, no match); past the gate\'s budget',
      M(subject='a' * 22 + 'b'), hr(('^subject: (a|a)+$', HOLD)), gate_undecided=True)
case('hx26-nested-quantifier-match', '(\\w+\\s?)+$ matching a short Subject (hold)',
     M(subject='hello big world'), hr(('^subject: (\\w+\\s?)+$', HOLD)))
case('hx27-hex-escape-short', '\\x4 followed by g (hold)',
     M(subject='\x04g'), hr(('^subject: \\x4g', HOLD)))
case('hx28-trailing-backslash', 'a rule ending in a backslash (error) then a matching hold',
     M(subject='x'), hr(('subject: x\\', DISCARD), ('^subject: x', HOLD)))
case('hx29-unbalanced-paren', 'unbalanced ) (error) only: accepted',
     M(subject='x)'), hr(('^subject: x)', REJECT)))
case('hx30-empty-alternative', 'an empty alternative matches everything (discard)',
     M(subject='anything'), hr(('^subject: zzz|', DISCARD)))
case('hx31-defer-then-reject', 'DEFER rule matching, then a REJECT rule that matches (defer continues)',
     M(subject='spam'), hr(('^subject: spam', DEFER), ('^subject: sp', REJECT)))
case('hx32-dot-newline', '. does not cross the header newline (hold rule not matching)',
     M(subject='a', extra=['X-B: b']), hr(('^subject: a.x-b', HOLD)))
case('hx33-dollar-before-newline', '$ before each newline under re.M (hold)',
     M(subject='tail'), hr(('tail$', HOLD)))
case('hx34-nul-in-subject', 'a NUL byte in the Subject, rule a.b (hold)',
     M(subject='a\x00b'), hr(('^subject: a.b$', HOLD)))
case('hx35-nested-repeat-error', '(a*)* in Python 2.7 compiles; a Subject of b (hold, matching the empty prefix)',
     M(subject='b'), hr(('^subject: (a*)*b', HOLD)))
case('hx36-long-subject-lookahead-miss', '.*zzz over a 60 KB single-line Subject (discard, no match)',
     M(subject='ab ' * 20000), hr(('^subject:.*zzz', DISCARD)))
case('hx37-many-headers-rule', '3000 headers, rule ^x-h-2999: (hold)',
     M(extra=['X-H-%d: v' % i for i in range(3000)]), hr(('^x-h-2999:', HOLD)))
case('hx38-8bit-pattern-byte', 'a rule with a raw latin-1 byte matching an 8-bit Subject (hold)',
     M(subject='caf\xe9'), {'header_filter_rules': [['^subject: caf\xe9', HOLD, False]]})

# ---- bounce_matching_headers (Hold.py) -------------------------------------
case('hb01-no-colon-then-valid', 'a line without colon, then Subject: spam (hold)',
     M(subject='spam'), {'bounce_matching_headers': 'X-Nothing\nSubject: spam'})
case('hb02-regex-error', 'Subject: (unclosed (error): accepted',
     M(subject='(unclosed'), {'bounce_matching_headers': 'Subject: (unclosed'})
case('hb03-indented-comment', 'an indented # comment line, nothing else: accepted',
     M(subject='# comment'), {'bounce_matching_headers': '   # Subject: hi'})
case('hb04-empty-value', 'Subject: with an empty pattern matches any Subject (hold)',
     M(subject='whatever'), {'bounce_matching_headers': 'Subject:'})
case('hb05-empty-name', ':value with an empty header name',
     M(subject='value'), {'bounce_matching_headers': ':value'})
case('hb06-crlf-setting', 'CRLF line ends in the setting',
     M(subject='spam'), {'bounce_matching_headers': 'X-Foo: bar\r\nSubject: spam\r\n'})
case('hb07-anchors', 'Subject: ^spam$ (hold), Subject spam',
     M(subject='spam'), {'bounce_matching_headers': 'Subject: ^spam$'})
case('hb08-utf8-value', 'a UTF-8 value in the setting and in the Subject (8-bit)',
     M(subject='caf\xc3\xa9'), {'bounce_matching_headers': 'Subject: caf\xc3\xa9'})
case('hb09-possessive', 'Subject: a++ (error in Python 2): accepted',
     M(subject='aaa'), {'bounce_matching_headers': 'Subject: a++'})
case('hb10-two-colons', 'X-A: b: c matches the value b: c',
     M(extra=['X-A: b: c']), {'bounce_matching_headers': 'X-A: b: c'})
case('hb11-name-with-space', 'a header name with an inner space',
     M(extra=['X A: b']), {'bounce_matching_headers': 'X A: b'})

# ---- ^regex entries of the nonmember lists ---------------------------------
case('hn01-accept-caret-only', 'accept entry ^ alone (empty regex) matches every sender, gen=2',
     M(frm=NM), gen2(accept_these_nonmembers=['^']))
case('hn02-accept-possessive', 'accept ^x++@foo (error, skipped), gen=2',
     M(frm=NM), gen2(accept_these_nonmembers=['^x++@foo\\.org']))
case('hn03-reject-Z', 'reject ^.*@foo\\.org\\Z, gen=0',
     M(frm=NM), {'generic_nonmember_action': 0, 'reject_these_nonmembers': ['^.*@foo\\.org\\Z']})
case('hn04-accept-inline-i', 'accept ^(?i)X@FOO\\.ORG$, gen=2',
     M(frm=NM), gen2(accept_these_nonmembers=['^(?i)X@FOO\\.ORG$']))
case('hn05-accept-verbose', 'accept ^(?x) x @ foo \\. org  # comment, gen=2',
     M(frm=NM), gen2(accept_these_nonmembers=['^(?x) x @ foo \\. org  # comment']))
case('hn06-hold-backref', 'hold ^(\\w)\\1@foo\\.org for xx@foo.org, gen=0',
     M(frm='xx@foo.org'), {'generic_nonmember_action': 0, 'hold_these_nonmembers': ['^(\\w)\\1@foo\\.org']})
case('hn07-discard-brace-no-min', 'discard ^x{,3}@foo\\.org, gen=0',
     M(frm=NM), {'generic_nonmember_action': 0, 'discard_these_nonmembers': ['^x{,3}@foo\\.org']})
case('hn08-accept-hex', 'accept ^\\x78@foo\\.org (hex escape), gen=2',
     M(frm=NM), gen2(accept_these_nonmembers=['^\\x78@foo\\.org']))
case('hn09-accept-lookahead', 'accept ^[^@]+@(?!evil)foo\\.org, gen=2',
     M(frm=NM), gen2(accept_these_nonmembers=['^[^@]+@(?!evil)foo\\.org']))
case('hn10-accept-lookbehind-start', 'accept ^(?<!y)x@foo\\.org, gen=2',
     M(frm=NM), gen2(accept_these_nonmembers=['^(?<!y)x@foo\\.org']))
case('hn11-reject-locale', 'reject ^(?L)x@foo\\.org, gen=0',
     M(frm=NM), {'generic_nonmember_action': 0, 'reject_these_nonmembers': ['^(?L)x@foo\\.org']})
case('hn12-accept-caret-space', 'accept entry "^ " does not match, gen=2',
     M(frm=NM), gen2(accept_these_nonmembers=['^ ']))
case('hn13-accept-trailing-space', 'accept ^x@foo\\.org$ with a trailing space, gen=2',
     M(frm=NM), gen2(accept_these_nonmembers=['^x@foo\\.org$ ']))
case('hn14-accept-unicode-entry', 'accept ^x@foo\\.org stored as unicode, gen=2',
     M(frm=NM), gen2(accept_these_nonmembers=[U(u'^x@foo\\.org')]))
case('hn15-invalid-accept-then-valid-hold', 'accept ^(x (error) then hold ^x@ matching, gen=2',
     M(frm=NM), {'generic_nonmember_action': 2, 'accept_these_nonmembers': ['^(x'],
                 'hold_these_nonmembers': ['^x@']})
case('hn16-accept-conditional', 'accept with a conditional group, gen=2',
     M(frm=NM), gen2(accept_these_nonmembers=['^(<)?x@foo\\.org(?(1)>)$']))
fcase('hn17-accept-exponential', 'accept ^(x|x)+$ against 24 x and @ (no match), gen=0; past the gate\'s budget',
      M(frm='x' * 24 + '@foo.org'), {'generic_nonmember_action': 0,
                                    'accept_these_nonmembers': ['^(x|x)+$']}, gate_undecided=True)
case('hn18-accept-dollar-newline', 'accept ^x@foo\\.org\\n? style $, gen=2',
     M(frm=NM), gen2(accept_these_nonmembers=['^x@foo\\.org$']))
case('hn19-accept-u-escape', 'accept ^\\u0078@foo\\.org (\\u is u in Python 2), gen=2',
     M(frm=NM), gen2(accept_these_nonmembers=['^\\u0078@foo\\.org']))

# ---- size, recipients, aliases ---------------------------------------------
case('hs01-size-0-big', 'max_message_size 0 (off) with a 200 KB body',
     M(body=('z' * 79 + '\n') * 2600), {'max_message_size': 0})
case('hs02-size-1-1023', 'max_message_size 1, a message just under 1 KB',
     M(body='q' * 900 + '\n'), {'max_message_size': 1})
case('hs03-recips-huge', 'max_num_recipients 2**31, 3 recipients',
     M(extra=['Cc: a@x.org, b@x.org']), {'max_num_recipients': 2 ** 31})
case('hs04-recips-1-to-and-cc-empty', 'max_num_recipients 1, To: list, empty Cc:',
     M(extra=['Cc: ']), {'max_num_recipients': 1})
case('hs05-recips-2-dup-list', 'max_num_recipients 2, the list twice in To',
     M(to='test@example.com, test@example.com'), {'max_num_recipients': 2})
case('he01-alias-verbose', 'acceptable alias (?x) with a comment, To: other@',
     M(to='other@example.org'), {'acceptable_aliases': '(?x) ^other @ example\\.org  # alias'})
case('he02-alias-possessive', 'acceptable alias a++ (error), To: a@x.org: implicit',
     M(to='a@x.org'), {'acceptable_aliases': 'a++'})
case('he03-alias-empty-regex-line', 'alias "^" matches every address',
     M(to='whoever@x.org'), {'acceptable_aliases': '^'})

# ---- messages from strangers -----------------------------------------------
case('hm01-nul-in-from', 'a NUL byte in From, gen=2',
     M(frm='x\x00y@foo.org'), GEN2)
case('hm02-8bit-from-name', 'an 8-bit display name in From, member address',
     M(frm='\xff\xfe <alice@example.com>'))
case('hm03-broken-b64-from-name', 'From name =?utf-8?B?!!!?= with a member address',
     M(frm='=?utf-8?B?!!!?= <alice@example.com>'))
case('hm04-unknown-charset-from-name', 'From name in an unknown charset, member address',
     M(frm='=?x-klingon?Q?Qapla?= <alice@example.com>'))
case('hm05-two-senders', 'From non-member, two Sender: (second a member), gen=2',
     M(frm=NM, extra=['Sender: y@foo.org', 'Sender: alice@example.com']), GEN2)
case('hm06-empty-from-sender-nonmember', 'From: empty, Sender: non-member, gen=2',
     M(frm='', extra=['Sender: y@foo.org']), GEN2)
case('hm07-from-comment-with-member', 'From: (alice@example.com) x@foo.org, gen=2',
     M(frm='(alice@example.com) x@foo.org'), GEN2)
case('hm08-from-quoted-at-comma', 'From: "x@foo.org, bob" <alice@example.com>, gen=2',
     M(frm='"x@foo.org, bob" <alice@example.com>'), GEN2)
case('hm09-from-group-empty', 'From: undisclosed:; with a member Sender, gen=2',
     M(frm='undisclosed:;', extra=['Sender: alice@example.com']), GEN2)
case('hm10-approved-tab', 'Approved:<TAB>adminpw, non-member, gen=2',
     M(frm=NM, extra=['Approved:\tadminpw']), GEN2)
case('hm11-approved-space-before-colon', '"Approved : adminpw", non-member, gen=2',
     M(frm=NM, extra=['Approved : adminpw']), GEN2)
case('hm12-approved-folded', 'Approved: folded onto a second line, non-member, gen=2',
     M(frm=NM, extra=['Approved:', ' adminpw']), GEN2)
NESTED_ALT = ('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="O"\n\n'
              '--O\nContent-Type: multipart/alternative; boundary="I"\n\n'
              '--I\nContent-Type: text/plain\n\nApproved: adminpw\nhello\n'
              '--I\nContent-Type: text/html\n\n<p>Approved: adminpw</p>\n--I--\n'
              '--O--\n')
case('hm13-approved-nested-alternative', 'Approved: in a text/plain inside multipart/alternative inside mixed, gen=2',
     M(frm=NM, extra=NESTED_ALT.split('\n\n', 1)[0].split('\n'), body=NESTED_ALT.split('\n\n', 1)[1]), GEN2)
case('hm14-approve-body-crlf', 'Approve: adminpw as the first body line, CRLF line ends, gen=2',
     ('From: x@foo.org\r\nTo: test@example.com\r\nSubject: hi\r\n\r\n'
      'Approve: adminpw\r\n\r\nhello\r\n'), GEN2)
case('hm15-admin-german', 'Subject hilfe and body abonnieren (not commands)',
     M(subject='hilfe', body='abonnieren\n'))
case('hm16-admin-subscribe-crlf', 'body "subscribe" with CRLF line ends',
     'From: alice@example.com\r\nTo: test@example.com\r\nSubject: x\r\n\r\nsubscribe\r\n')
case('hm17-admin-nbsp', 'Subject "help" followed by a no-break space (UTF-8)',
     M(subject='help\xc2\xa0'))
case('hm18-boundary-empty', 'multipart/mixed; boundary="" with a text/html part, filter_content on',
     M(extra=['MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=""'],
       body='--\nContent-Type: text/html\n\n<b>x</b>\n----\n'),
     {'filter_content': 1, 'filter_mime_types': ['text/html']})
RFC822_DEEP = ''
for _i in range(60):
    RFC822_DEEP += 'Content-Type: message/rfc822\n\n'
RFC822_DEEP += 'Content-Type: text/html\n\n<b>deep</b>\n'
case('hm19-rfc822-60-deep', '60 nested message/rfc822 with HTML inside, filter_content on (html filtered)',
     M(extra=['MIME-Version: 1.0'], body='') [:-2] + '\n' + RFC822_DEEP,
     {'filter_content': 1, 'filter_mime_types': ['text/html']})
case('hm20-ct-bad-params', 'Content-Type: text/html; ;;charset*=\'\';name*0*=x%; filter_content (html)',
     M(extra=['MIME-Version: 1.0', 'Content-Type: text/html; ;;charset*=\'\';name*0*=x%'],
       body='<p>x</p>\n'),
     {'filter_content': 1, 'filter_mime_types': ['text/html']})
case('hm21-ct-unterminated-quote', 'Content-Type: text/plain; charset="unterminated, pass_mime_types text/plain',
     M(extra=['MIME-Version: 1.0', 'Content-Type: text/plain; charset="unterminated'],
       body='plain\n'),
     {'filter_content': 1, 'pass_mime_types': ['text/plain']})
case('hm22-mixed-line-ends-rule', 'CRLF on the Subject only, LF elsewhere, rule ^subject: viagra$ (hold)',
     'From: alice@example.com\nTo: test@example.com\nSubject: viagra\r\nX-A: b\n\nbody\n',
     hr(('^subject: viagra$', HOLD)))
case('hm23-bare-cr-header', 'a bare CR inside the Subject, rule ^subject: a$ (hold)',
     M(subject='a\rb'), hr(('^subject: a$', HOLD)))
case('hm24-first-line-continuation', 'the message starts with a continuation line',
     ' folded\n' + M())
case('hm25-500-from-headers', '500 From: headers, the first a non-member, gen=2',
     M(frm=None, pre=['From: x%d@foo.org' % i for i in range(500)]), GEN2)
case('hm26-long-to-header', 'To: with 5000 addresses, max_num_recipients 0',
     M(to=', '.join('u%d@x.org' % i for i in range(5000))), {'max_num_recipients': 0})
case('hm27-long-to-implicit', 'To: with 5000 addresses not the list: implicit destination',
     M(to=', '.join('u%d@x.org' % i for i in range(5000))))
case('hm28-encoded-subject-nul', 'Subject =?utf-8?Q?a=00b?= with a rule a.b (hold)',
     M(subject='=?utf-8?Q?a=00b?='), hr(('^subject: a.b', HOLD)))
case('hm29-encoded-subject-bad-utf8', 'Subject =?utf-8?B?/w==?= (0xff) with a rule',
     M(subject='=?utf-8?B?/w==?='), hr(('^subject: \\xff', HOLD)))
case('hm30-header-no-space-after-colon', 'Subject:viagra (no space), rule ^subject: viagra (hold, not matching)',
     M(subject=None, extra=['Subject:viagra']), hr(('^subject: viagra', HOLD)))

# ---- odd address syntax of a member's From (gen=2: a misread is a reject) --
for _n, (_frm, _doc) in enumerate([
        ('<alice@example.com> x@foo.org', 'angle address then a bare one'),
        ('alice@example.com <x@foo.org>', 'bare address then an angle one'),
        ('"alice@example.com"', 'only a quoted string'),
        ('alice@[example.com]', 'domain literal'),
        ('alice @ example . com', 'spaces around @ and dot'),
        ('=?utf-8?q?alice=40example=2Ecom?=', 'the address as an encoded word'),
        ('alice@example.com.', 'trailing dot'),
        ('<<alice@example.com>>', 'double angle brackets'),
        ('alice@example.com;', 'trailing semicolon'),
        ('"a\\"b" <alice@example.com>', 'escaped quote in the name'),
        ('Alice <alice@example.com', 'unclosed angle bracket'),
        ('alice@example.com>', 'stray closing bracket'),
        ('Alice\t<alice@example.com>', 'tab before the angle address'),
        ('Alice (x@foo.org) <alice@example.com>', 'comment holding a non-member address'),
        ('alice@example.com (Alice (nested) comment)', 'nested comment after the address'),
        ('"Alice" <"alice"@example.com>', 'quoted local part'),
        ('Alice <@route.org:alice@example.com>', 'source route'),
        ('Alice <alice@example.com>, ', 'trailing comma'),
        (', alice@example.com', 'leading comma'),
        ('ALICE@Example.COM', 'mixed case'),
        ('alice@example.com\x00', 'NUL after the address'),
        ('alice@ex\xc3\xa4mple.com', 'UTF-8 in the domain (not a member)'),
        ('Alice <alice@example.com> (trailing comment)', 'comment after the angle address'),
        ('=?utf-8?B?QWxpY2U=?= <alice@example.com>', 'encoded name'),
        ('"=?utf-8?B?QWxpY2U=?=" <alice@example.com>', 'encoded word inside quotes'),
]):
    case('ha%02d-from-odd' % (_n + 1), 'From: %r (%s), gen=2' % (_frm, _doc), M(frm=_frm), GEN2)
case('ha26-from-folded-address', 'From folded inside the angle address, gen=2',
     M(frm='Alice <alice@exa', extra=[]).replace('From: Alice <alice@exa\n', 'From: Alice <alice@\n example.com>\n'), GEN2)
case('ha27-from-crlf-fold', 'From folded with CRLF before the address, gen=2',
     'From: Alice\r\n <alice@example.com>\r\nTo: test@example.com\r\nSubject: hi\r\n\r\nhello\r\n', GEN2)

# ---- Approved: variants (non-member, gen=2) --------------------------------
for _n, (_extra, _body, _doc) in enumerate([
        (['Approved: "adminpw"'], 'hello\n', 'quoted password'),
        (['Approved: =?utf-8?q?adminpw?='], 'hello\n', 'password as an encoded word'),
        (['APPROVED: adminpw'], 'hello\n', 'header name upper case'),
        (['Approved: adminpw\r'], 'hello\n', 'a CR after the password'),
        (['Approved:adminpw'], 'hello\n', 'no space after the colon'),
        (['Approved: adminpw extra'], 'hello\n', 'password then a word'),
        ([], '\n\nApproved: adminpw\nhello\n', 'body password after two blank lines'),
        ([], '   Approved: adminpw\nhello\n', 'body password line indented'),
        ([], 'approved: adminpw\nhello\n', 'body password, lower-case name'),
        ([], 'Approved:adminpw\nhello\n', 'body password without space'),
        ([], 'Approved: adminpw', 'body password without a final newline'),
        (['Content-Transfer-Encoding: quoted-printable'], 'Approved: admin=\npw\nhello\n', 'body password split by a QP soft break'),
        (['Content-Transfer-Encoding: quoted-printable'], '=41pproved: adminpw\nhello\n', 'body password with a QP-encoded letter'),
        (['Content-Type: text/plain; charset=utf-16'], 'Approved: adminpw\nhello\n', 'body password, part declared utf-16'),
        (['Content-Transfer-Encoding: base64'], 'QXBwcm92ZWQ6IGFkbWlucHcKaGVsbG8K\n!!!\n', 'base64 body password with trailing garbage'),
]):
    case('hp%02d-approved' % (_n + 1), 'Approved variant: %s; non-member, gen=2' % _doc,
         M(frm=NM, extra=_extra, body=_body), GEN2)

# ---- explicit destination (member, default require_explicit_destination) ---
for _n, (_to, _doc) in enumerate([
        ('=?utf-8?q?test=40example=2Ecom?=', 'list address as an encoded word'),
        ('"test@example.com" <other@x.org>', 'list address only in the display name'),
        ('(test@example.com) other@x.org', 'list address only in a comment'),
        ('list: test@example.com;', 'list address inside a group'),
        ('TEST@EXAMPLE.COM.', 'upper case with a trailing dot'),
        ('<test@example.com', 'unclosed angle bracket'),
        ('test@example.com\x00', 'NUL after the address'),
        ('Test List <test@example.com> (comment)', 'comment after the address'),
        ('test+tag@example.com', 'plus suffix'),
        ('"test"@example.com', 'quoted local part'),
        ('test@example.com.evil.org', 'list address as a domain prefix'),
        ('other@x.org,test@example.com', 'no space after the comma'),
]):
    case('hd%02d-to' % (_n + 1), 'To: %r (%s), member' % (_to, _doc), M(to=_to))
case('hd13-to-header-name-upper', 'TO: header name upper case, member',
     M(to=None, extra=['TO: test@example.com']))
case('hd14-cc-folded', 'list address in a folded Cc, To other',
     M(to='other@x.org', extra=['Cc: a@x.org,', '\tTest <test@example.com>']))

# ---- recipient counting (max_num_recipients 3) ----------------------------
for _n, (_to, _cc, _doc) in enumerate([
        ('"a, b" <a@x.org>, test@example.com', None, 'quoted comma in a name'),
        ('test@example.com, (c, d) a@x.org', None, 'comma in a comment'),
        ('grp: a@x.org, b@x.org;, test@example.com', None, 'group of two'),
        ('test@example.com', ',,, ,', 'Cc of commas only'),
        ('test@example.com', 'a@x.org', 'exactly 2 (under)'),
        ('test@example.com, a@x.org', 'b@x.org', 'exactly 3 (the limit)'),
        ('test@example.com, <>', 'a@x.org', 'an empty angle address'),
        ('test@example.com, a@x.org', '=?utf-8?q?b=40x.org=2C_c=40x.org?=', 'encoded word holding two addresses'),
]):
    _extra = ['Cc: ' + _cc] if _cc is not None else []
    case('hr%02d-recipients' % (_n + 1), 'max_num_recipients 3: %s' % _doc,
         M(to=_to, extra=_extra), {'max_num_recipients': 3})

# ---- character semantics of Python 2's sre: ASCII-only case folding and
# classes unless (?u); decoded (unicode) headers in SpamDetect, raw str
# elsewhere ------------------------------------------------------------------
def q(s):
    """An RFC 2047 Q encoded word of UTF-8 text."""
    return '=?utf-8?b?' + s.encode('base64').strip().replace('\n', '') + '?='


for _n, (_subj, _rule, _doc) in enumerate([
        (q('CAF\xc3\x89'), '^subject: caf\xc3\xa9', 're.I on a non-ASCII letter without (?u)'),
        (q('CAF\xc3\x89'), '(?u)^subject: caf\xc3\xa9', 're.I on a non-ASCII letter with (?u)'),
        (q('caf\xc3\xa9'), '^subject: caf\\w$', '\\w on a non-ASCII letter without (?u)'),
        (q('caf\xc3\xa9'), '(?u)^subject: caf\\w$', '\\w on a non-ASCII letter with (?u)'),
        (q('\xc3\xa9viagra'), '\\bviagra\\b', '\\b after a non-ASCII letter without (?u)'),
        (q('\xc3\xa9viagra'), '(?u)\\bviagra\\b', '\\b after a non-ASCII letter with (?u)'),
        (q('a\xc2\xa0b'), '^subject: a\\sb', '\\s on a no-break space without (?u)'),
        (q('a\xc2\xa0b'), '(?u)^subject: a\\sb', '\\s on a no-break space with (?u)'),
        (q('\xd9\xa1\xd9\xa2'), '^subject: \\d+$', '\\d on Arabic-Indic digits without (?u)'),
        (q('\xd9\xa1\xd9\xa2'), '(?u)^subject: \\d+$', '\\d on Arabic-Indic digits with (?u)'),
        (q('\xe2\x84\xaaate'), '(?u)^subject: kate', 'Kelvin sign under (?iu)'),
        (q('\xe2\x84\xaaate'), '^subject: kate', 'Kelvin sign under re.I only'),
        (q('\xc5\xbfpam'), '(?u)^subject: spam', 'long s under (?iu)'),
        (q('\xc5\xbfpam'), '^subject: [a-z]pam', 'long s against [a-z] under re.I'),
        (q('\xe2\x84\xaaate'), '(?u)^subject: [a-z]ate', 'Kelvin sign against [a-z] under (?iu)'),
        (q('STRASSE'), '(?u)^subject: stra\xc3\x9fe', 'sharp s against SS under (?iu)'),
        (q('\xc4\xb0stanbul'), '(?u)^subject: istanbul', 'dotted capital I under (?iu)'),
        (q('\xce\xa3\xce\xb9\xcf\x83'), '(?u)^subject: \xcf\x83\xce\xb9\xcf\x82', 'final sigma under (?iu)'),
        (q('x\xe2\x80\xa8y'), '^subject: x.y', '. over U+2028 (line separator)'),
        (q('x\xc2\x85y'), '^subject: x$', '$ before U+0085 (next line)'),
        (q('\xef\xbc\xa1\xef\xbc\xa2'), '^subject: ab', 'fullwidth letters (NFKC) under re.I'),
        (q('A\xcc\x8a'), '^subject: \xc3\xa5', 'A + combining ring vs a-ring (NFKC composes)'),
        (q('x\ty'), '^subject: x\\sy', 'tab inside an encoded word'),
        (q('\xf0\x9f\x92\x8a pills'), '^subject: .\\spills', 'an astral character is one . or two (narrow build)'),
]):
    case('hu%02d-rule-chars' % (_n + 1), 'hold rule %r, Subject %s: %s' % (_rule, _subj, _doc),
         M(subject=_subj), hr((_rule, HOLD)))

for _n, (_frm, _entry, _doc) in enumerate([
        ('\xc3\x89x@foo.org', '^\xc3\xa9x@foo\\.org$', 'non-ASCII local part, entry lower case'),
        ('caf\xc3\xa9@foo.org', '^caf\\w@foo\\.org$', '\\w against a UTF-8 byte'),
        ('caf\xc3\xa9@foo.org', '^caf\\w\\w@foo\\.org$', '\\w\\w against two UTF-8 bytes'),
        ('caf\xc3\xa9@foo.org', '^(?u)caf\\w+@foo\\.org$', '(?u) \\w+ against UTF-8 bytes of a str'),
        ('\xe2\x84\xaax@foo.org', '^kx@foo\\.org$', 'Kelvin sign bytes against k'),
        ('x@foo.org', '^X@FOO\\.ORG$', 'upper-case entry'),
        ('x.y@foo.org', '^x\\Sy@foo\\.org$', '\\S'),
]):
    case('hv%02d-nonmember-chars' % (_n + 1), 'reject entry %r, From %r, gen=0: %s' % (_entry, _frm, _doc),
         M(frm=_frm), {'generic_nonmember_action': 0, 'reject_these_nonmembers': [_entry]})

for _n, (_subj, _line, _doc) in enumerate([
        ('CAF\xc3\x89', 'Subject: caf\xc3\xa9', 'raw UTF-8 Subject, upper-case non-ASCII'),
        (q('spam'), 'Subject: spam', 'encoded word (bounce_matching_headers sees it raw)'),
        ('a\xc2\xa0b', 'Subject: a\\sb', 'raw no-break space bytes and \\s'),
        ('caf\xc3\xa9', 'Subject: caf\\w\\w$', '\\w\\w against raw UTF-8 bytes'),
        ('\xe2\x84\xaaate', 'Subject: (?u)kate', 'Kelvin sign bytes under (?u) on a str'),
]):
    case('hw%02d-bounce-chars' % (_n + 1), 'bounce_matching_headers %r, Subject %r: %s' % (_line, _subj, _doc),
         M(subject=_subj), {'bounce_matching_headers': _line})

# ---- Approved: in odd bodies (non-member, gen=2: a miss is a reject) -------
def MP(parts, ctype='multipart/mixed', preamble='', frm=NM):
    """A multipart message of (headers, body) parts."""
    b = 'BND'
    text = preamble
    for hdrs, body in parts:
        text += '--%s\n%s\n\n%s' % (b, '\n'.join(hdrs), body)
    text += '--%s--\n' % b
    return M(frm=frm, extra=['MIME-Version: 1.0', 'Content-Type: %s; boundary="%s"' % (ctype, b)],
             body=text)


TP = ['Content-Type: text/plain']
for _n, (_msg, _doc) in enumerate([
        (MP([(TP, 'hello\n')], preamble='Approved: adminpw\n\n'), 'password only in the preamble'),
        (MP([(TP + ['Content-Disposition: attachment; filename="a.txt"'], 'Approved: adminpw\nhi\n')]),
         'first text/plain is an attachment'),
        (MP([(['Content-Type: message/rfc822'], 'From: a@b.c\nSubject: fw\n\nApproved: adminpw\nhi\n')]),
         'password in a forwarded message\'s body'),
        (MP([(['Content-Type: message/rfc822'], 'From: a@b.c\nApproved: adminpw\n\nhi\n')]),
         'Approved: header of a forwarded message'),
        (MP([(TP, '\n'), (TP, 'Approved: adminpw\nhi\n')]), 'first text/plain empty, password in the second'),
        (MP([(TP, ' \t\nApproved: adminpw\nhi\n')]), 'a whitespace-only line before the password'),
        (MP([(TP, 'Approved: adminpw   \nhi\n')]), 'trailing spaces after the password'),
        (MP([(TP, 'Approved:   adminpw\nhi\n')]), 'several spaces after the colon'),
        (MP([(TP + ['Content-Transfer-Encoding: quoted-printable'], 'Approved: adminpw=20\nhi\n')]),
         'QP-encoded trailing space'),
        (MP([(TP + ['Content-Transfer-Encoding: base64'], '!!!!\n')]), 'undecodable base64 part'),
        (MP([(TP + ['Content-Transfer-Encoding: x-uuencode'], 'begin 644 a\n#86)C\n`\nend\n')]),
         'uuencoded part'),
        (MP([(['Content-Type: text/plain; charset=unknown-8bit'], 'Approved: adminpw\n\xff\xfe\n')]),
         'unknown-8bit charset'),
        (MP([(TP, 'Approved: adminpw\r\nhi\r\n')]), 'CRLF inside a part'),
        (MP([(['Content-Type: TEXT/PLAIN'], 'Approved: adminpw\nhi\n')]), 'upper-case content type'),
        (MP([(['Content-Type: text/plain; format=flowed'], 'Approved: admin \npw\nhi\n')]), 'format=flowed soft break'),
        (MP([(['Content-Type: text/html'], '<p>Approved: adminpw</p>\n'), (TP, 'Approved: adminpw\nhi\n')],
            ctype='multipart/related'), 'multipart/related, html first'),
        (MP([(TP, 'Approved: adminpw\nhi\n')], ctype='multipart/signed'), 'multipart/signed'),
        (MP([(['Content-Type: multipart/mixed; boundary="IN"'],
              '--IN\nContent-Type: text/plain\n\nApproved: adminpw\n--IN--\n')]), 'nested multipart'),
        (M(frm=NM, extra=['MIME-Version: 1.0', 'Content-Type: text/plain; charset="utf-16"',
                          'Content-Transfer-Encoding: base64'],
           body=u'Approved: adminpw\n'.encode('utf-16').encode('base64')), 'UTF-16 body in base64'),
        (M(frm=NM, body='\xef\xbb\xbfApproved: adminpw\nhi\n'), 'a UTF-8 BOM before the password'),
        (M(frm=NM, body='Approved: adminpw\x00\nhi\n'), 'a NUL after the password'),
        (M(frm=NM, body='Approved : adminpw\nhi\n'), 'a space before the colon'),
        (M(frm=NM, body='X-Approved: adminpw\nhi\n'), 'X-Approved: in the body'),
]):
    case('hq%02d-approved-body' % (_n + 1), 'Approved in the body: %s; non-member, gen=2' % _doc,
         _msg, GEN2)

# ---- content filtering on odd MIME (member posts, filter_action reject) ----
def FX(**kw):
    d = {'filter_content': 1, 'filter_action': 1, 'pass_mime_types': [],
         'filter_mime_types': [], 'filter_filename_extensions': []}
    d.update(kw)
    return d


EXT = FX(filter_filename_extensions=['exe'])
PASS = FX(pass_mime_types=['text/plain', 'multipart'])
for _n, (_parts, _ov, _doc) in enumerate([
        ([(['Content-Type: application/octet-stream; name="a.EXE "'], 'x\n')], EXT, 'name with upper case and a trailing space'),
        ([(['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename*=utf-8\'\'a%2Eexe'], 'x\n')],
         EXT, 'RFC 2231 encoded filename'),
        ([(['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename*0="a.e"; filename*1="xe"'], 'x\n')],
         EXT, 'RFC 2231 continued filename'),
        ([(['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="=?utf-8?q?a.exe?="'], 'x\n')],
         EXT, 'encoded-word filename'),
        ([(['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="a.exe."'], 'x\n')],
         EXT, 'filename with a trailing dot'),
        ([(['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="dir/a.exe"'], 'x\n')],
         EXT, 'filename with a directory'),
        ([(['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="a.exe\\"'], 'x\n')],
         EXT, 'filename ending in a backslash'),
        ([(['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename=a.exe; filename=b.txt'], 'x\n')],
         EXT, 'two filename parameters'),
        ([(['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename=".exe"'], 'x\n')],
         EXT, 'filename .exe (no stem)'),
        ([(['Content-Type: application/octet-stream; name=a.exe', 'Content-Disposition: attachment; filename=a.txt'], 'x\n')],
         EXT, 'name and filename disagree'),
        ([(['Content-Type: text'], 'x\n')], PASS, 'content type without subtype'),
        ([(['Content-Type: TEXT/PLAIN (comment)'], 'x\n')], PASS, 'content type with a comment'),
        ([(['Content-Type: text/plain/extra'], 'x\n')], PASS, 'content type with two slashes'),
        ([(['Content-Type: ;charset=us-ascii'], 'x\n')], PASS, 'content type empty'),
        ([(['Content-Type: text/plain', 'Content-Type: application/x-evil'], 'x\n')], PASS, 'two Content-Type headers'),
        ([(['Content-Type: text/ plain'], 'x\n')], PASS, 'space after the slash'),
        ([(['Content-Type: "text/plain"'], 'x\n')], PASS, 'quoted content type'),
        ([(['Content-type:text/html'], '<b>x</b>\n')], FX(filter_mime_types=['text/html']), 'no space after the colon'),
        ([(['Content-Type: text/html'], '<b>x</b>\n'), (['Content-Type: text/html'], '<b>y</b>\n')],
         FX(filter_mime_types=['TEXT/HTML']), 'filter entry in upper case'),
        ([(['Content-Type: text/html'], '<b>x</b>\n')], FX(filter_mime_types=[' text/html ']), 'filter entry with spaces'),
        ([(['Content-Type: text/html'], '<b>x</b>\n')], FX(filter_mime_types=['text/*']), 'filter entry text/*'),
        ([(['Content-Type: text/html'], '<b>x</b>\n')], FX(filter_mime_types=['text/html\ntext/plain']), 'filter entries in one string'),
]):
    case('hf%02d-filter' % (_n + 1), 'content filter, reject action: %s' % _doc,
         MP(_parts, frm='alice@example.com'), _ov)

# ---- where the header block ends (member post, rule ^x-spam: yes rejects) --
SPAM = hr(('^x-spam: yes', REJECT))
HEAD = 'From: alice@example.com\nTo: test@example.com\nSubject: hi\n'
for _n, (_mid, _doc) in enumerate([
        ('X-Bad : v\n', 'a header name followed by a space'),
        ('From nobody Mon Nov 23 19:00:00 2026\n', 'an mbox From line among the headers'),
        ('>From x\n', 'a >From line among the headers'),
        (': v\n', 'an empty header name'),
        ('X-' + 'n' * 2000 + ': v\n', 'a 2000-character header name'),
        ('   \n', 'a whitespace-only line'),
        ('\t\n', 'a tab-only line'),
        ('X-FF:\x0c\n', 'a form feed in a value'),
        ('\x0c\n', 'a form feed line'),
        ('X-A: v\r\r\n', 'CR CR LF'),
        ('X-\xc3\x9c: v\n', 'an 8-bit header name'),
        ('X-Tab\t: v\n', 'a tab before the colon'),
        ('X-A: v\n\r\n', 'LF then CRLF: a blank line'),
]):
    case('hk%02d-header-end' % (_n + 1), 'X-Spam: yes after %s' % _doc,
         HEAD + _mid + 'X-Spam: yes\n\nbody\n', SPAM)
case('hk14-cr-only', 'CR-only line ends, X-Spam: yes last header',
     HEAD.replace('\n', '\r') + 'X-Spam: yes\r\rbody\r', SPAM)
case('hk15-bom-first', 'a UTF-8 BOM before the first header',
     '\xef\xbb\xbfX-Spam: yes\n' + HEAD + '\nbody\n', SPAM)
case('hk16-leading-blank', 'the message starts with a blank line',
     '\n' + HEAD + 'X-Spam: yes\n\nbody\n', SPAM)
case('hk17-x-spam-in-body', 'X-Spam: yes only in the body',
     HEAD + '\nX-Spam: yes\n', SPAM)
case('hk18-nul-line', 'a NUL-only line among the headers',
     HEAD + '\x00\nX-Spam: yes\n\nbody\n', SPAM)

# ---- the -owner address (SpamDetect, Replybot, OwnerRecips) ---------------
for _n, (_msg, _ov, _doc) in enumerate([
        (M(frm=NM, to='test-owner@example.com', subject='a' * 22 + 'b'), hr(('^subject: (a|a)+$', DISCARD)),
         'exponential rule, no match'),
        (M(frm=NM, to='test-owner@example.com', subject='x'), hr(('^subject: x{,2}$', DISCARD)), '{,2} rule matching'),
        (M(frm=NM, to='test-owner@example.com', subject='x'), hr(('^subject: x++', DISCARD)), 'invalid rule'),
        (M(frm='', to='test-owner@example.com', subject='x'), hr(('^from: $', DISCARD)), 'empty From, ^from: $ rule'),
        (M(frm=NM, to='test-owner@example.com', subject='x', extra=['Approved: adminpw']),
         hr(('^subject: x', DISCARD)), 'Approved: does not skip the owner rules'),
        (M(frm=NM, to='test-owner@example.com', subject='help'), {'bounce_matching_headers': 'Subject: help'},
         'bounce_matching_headers and administrivia do not apply'),
]):
    # The first is past the gate's regex budget: undecided.
    fcase('ho%02d-owner' % (_n + 1), '-owner: %s' % _doc, _msg, _ov, recipient='owner',
          envelope=NM if _n != 3 else None, gate_undecided=(_n == 0))

# ---- DMARC (reject) against odd From syntax, policy read from DNS --------
for _n, (_frm, _extra, _doc) in enumerate([
        ('"someone@reject.example" <alice@example.com>', [], 'policy domain only in the display name'),
        ('alice@example.com (someone@reject.example)', [], 'policy domain only in a comment'),
        ('someone@reject.example.', [], 'trailing dot'),
        ('someone@REJECT.Example', [], 'mixed-case domain'),
        ('someone@[reject.example]', [], 'domain literal'),
        ('=?utf-8?q?someone=40reject=2Eexample?= <alice@example.com>', [], 'policy address as an encoded name'),
        ('someone@sub.reject.example', [], 'subdomain of a p=reject domain'),
        ('alice@example.com', ['From: someone@reject.example'], 'second From header with the policy domain'),
        ('someone@reject.example\x00', [], 'NUL after the domain'),
        ('someone @ reject.example', [], 'spaces around @'),
        ('<>', ['Sender: someone@reject.example'], 'empty From, policy domain in Sender'),
]):
    # A From domain that is no valid DNS name (trailing dot, brackets, a
    # NUL): Mailman's answer follows from how dnspython treats the name,
    # which the gate does not model: it says undecided.
    fcase('hy%02d-dmarc' % (_n + 1), 'DMARC reject action: From %r %s (%s)' % (_frm, _extra, _doc),
          M(frm=_frm, extra=_extra), {'dmarc_moderation_action': 3}, dns=True, site=PSL,
          gate_undecided=_n in (2, 4, 8))

# ---- patterns that look line-anchored but match mid-line: an ACCEPT rule
# that matches mid-line, then a REJECT rule that matches (a miss of the
# ACCEPT would be a wrong reject) -------------------------------------------
for _n, (_pat, _doc) in enumerate([
        ('^subject: zz|okword', 'anchor in the first branch only'),
        ('(^subject: zz)|okword', 'anchored group, bare second branch'),
        ('^|okword', 'empty anchored branch'),
        ('(?:^subject: zz|okword)', 'alternation in a group'),
        ('^?okword', 'optional anchor'),
        ('(^)?okword', 'optional anchored group'),
        ('(?#c)^x-note: .*okword', 'comment before the anchor (matches at a line start)'),
        ('(?i)^X-NOTE: .*OKWORD', 'inline flag before the anchor'),
        ('(?x) ^ x-note: .* okword', 'verbose spaces around the anchor'),
        ('\\n?okword', 'optional newline'),
        ('^*okword', 'starred anchor (Python 2 error?)'),
        ('(?<=mid )okword', 'lookbehind, no anchor'),
        ('\\Aqq|okword', '\\A in the first branch'),
        ('$|okword', 'end anchor branch'),
        ('(?m)^x-note: mid okword$', 'explicit (?m)'),
        ('(?s)^x-note:.*okword', '(?s) with the anchor'),
        ('[\\n]okword', 'class holding a newline'),
        ('.^okword', 'anchor after a character'),
]):
    case('hl%02d-anchor-like' % (_n + 1), 'ACCEPT %r (%s) then REJECT ^x-spam: yes; X-Note: mid okword' % (_pat, _doc),
         M(extra=['X-Note: mid okword', 'X-Spam: yes']), hr((_pat, ACCEPT), ('^x-spam: yes', REJECT)))
