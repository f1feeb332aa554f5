# -*- coding: utf-8 -*-
# Case descriptions for oracle.py (Python 2 syntax; executed by oracle.py).
#
# Each case: id, doc, list (default 'test'), overrides, other_overrides,
# site, recipient ('post' | 'owner'), envelope (unixfrom token or None),
# message (str; bytes that are not UTF-8 are stored as message_b64).
# Values: str = Python str, U(u'...') = Python unicode.

CASES = []


def U(s):
    return {'$unicode': unicode(s)}


def M(frm='alice@example.com', to='test@example.com', subject='hi',
      body='hello\n', extra=(), pre=()):
    """Build a message: pre headers, From, To, Subject, extra headers, body.
    frm/to/subject None = header absent."""
    lines = list(pre)
    if frm is not None:
        lines.append('From: ' + frm)
    if to is not None:
        lines.append('To: ' + to)
    if subject is not None:
        lines.append('Subject: ' + subject)
    lines.extend(extra)
    return '\n'.join(lines) + '\n\n' + body


def case(id, doc, message=None, overrides=None, list='test', envelope=None,
         recipient='post', site=None, other_overrides=None):
    CASES.append({
        'id': id, 'doc': doc, 'list': list,
        'overrides': overrides or {},
        'other_overrides': other_overrides,
        'site': site,
        'recipient': recipient,
        'envelope': envelope,
        'message': message if message is not None else M(),
    })


GEN0 = {'generic_nonmember_action': 0}
GEN2 = {'generic_nonmember_action': 2}
GEN3 = {'generic_nonmember_action': 3}


def gen2(**kw):
    d = dict(GEN2)
    d.update(kw)
    return d


def body_of(n, width=80):
    """A body of exactly n bytes made of LF-terminated lines."""
    line = 'x' * (width - 1) + '\n'
    full, rest = divmod(n, width)
    b = line * full
    if rest:
        b += 'y' * (rest - 1) + '\n' if rest > 1 else '\n'
    assert len(b) == n, (len(b), n)
    return b


KB50 = body_of(50 * 1024)
FIXTURE_ACCEPT = ['ok@foo.org', '^.*@trusted\\.org$', '@other']

# ===========================================================================
# Section 5 test table, rows 1-80

case('t001-member', '§5 row 1: member alice', M())
case('t002-member-case', '§5 row 2: From "A" <ALICE@EXAMPLE.COM>, case-insensitive',
     M(frm='"A" <ALICE@EXAMPLE.COM>'))
case('t003-digest-member', '§5 row 3: digest member dig@', M(frm='dig@example.com'))
case('t004-moderated-member-hold', '§5 row 4: moderated bob@, action 0',
     M(frm='bob@example.com'))
case('t005-moderated-member-reject', '§5 row 5: bob@, action 1, empty notice',
     M(frm='bob@example.com'), {'member_moderation_action': 1})
case('t006-moderated-member-notice-literal',
     '§5 row 6: bob@, action 1, notice "No %(listowner)s"',
     M(frm='bob@example.com'),
     {'member_moderation_action': 1,
      'member_moderation_notice': 'No %(listowner)s'})
case('t007-moderated-member-discard', '§5 row 7: bob@, action 2',
     M(frm='bob@example.com'), {'member_moderation_action': 2})
case('t008-nonmember-gen1-hold', '§5 row 8: non-member x@foo.org, gen=1',
     M(frm='x@foo.org'))
case('t009-nonmember-gen0-accept', '§5 row 9: non-member, gen=0',
     M(frm='x@foo.org'), GEN0)
case('t010-nonmember-gen2-reject', '§5 row 10: non-member, gen=2',
     M(frm='x@foo.org'), GEN2)
case('t011-nonmember-notice-interp',
     '§5 row 11: gen=2, notice "Ask %(listowner)s %(x)s"',
     M(frm='x@foo.org'),
     gen2(nonmember_rejection_notice='Ask %(listowner)s %(x)s'))
case('t012-nonmember-gen3-discard', '§5 row 12: non-member, gen=3',
     M(frm='x@foo.org'), GEN3)
case('t013-accept-plain-case', '§5 row 13: From OK@FOO.ORG (plain accept entry), gen=2',
     M(frm='OK@FOO.ORG'), GEN2)
case('t014-hold-list', '§5 row 14: hold@foo.org (hold list), gen=0',
     M(frm='hold@foo.org'), GEN0)
case('t015-reject-list', '§5 row 15: reject@foo.org (reject list)',
     M(frm='reject@foo.org'))
case('t016-discard-list', '§5 row 16: discard@foo.org (discard list)',
     M(frm='discard@foo.org'))
case('t017-accept-regex', '§5 row 17: y@trusted.org (regex entry), gen=2',
     M(frm='y@trusted.org'), GEN2)
case('t018-accept-regex-end-anchor',
     '§5 row 18: y@trusted.org.evil.net, fixture regex ^.*@trusted\\.org$, gen=2',
     M(frm='y@trusted.org.evil.net'), GEN2)
case('t018a-accept-regex-no-end-anchor',
     '§5 row 18a: y@trusted.org.evil.net, accept entry ^.*@trusted\\.org, gen=2',
     M(frm='y@trusted.org.evil.net'),
     gen2(accept_these_nonmembers=['ok@foo.org', '^.*@trusted\\.org', '@other']))
case('t019-accept-no-caret-literal',
     '§5 row 19: accept entry .*@foo\\.org (no ^), z@foo.org, gen=2',
     M(frm='z@foo.org'), gen2(accept_these_nonmembers=['.*@foo\\.org']))
case('t020-at-list-regular', '§5 row 20: carol@other.org, @other in accept, gen=2',
     M(frm='carol@other.org'), GEN2)
case('t021-at-list-digest', '§5 row 21: dan@other.org (digest member of other), gen=2',
     M(frm='dan@other.org'), GEN2)
case('t022-at-list-nonmember', '§5 row 22: eve@other.org, gen=2',
     M(frm='eve@other.org'), GEN2)
case('t023-accept-before-reject', '§5 row 23: ok@foo.org also in reject list',
     M(frm='ok@foo.org'),
     gen2(reject_these_nonmembers=['reject@foo.org', 'ok@foo.org']))
case('t024-hold-before-reject', '§5 row 24: hold@foo.org also in reject list, gen=0',
     M(frm='hold@foo.org'),
     {'generic_nonmember_action': 0,
      'reject_these_nonmembers': ['reject@foo.org', 'hold@foo.org']})
case('t025-at-self-ignored', '§5 row 25: @test (self) in accept, gen=2',
     M(frm='x@foo.org'), gen2(accept_these_nonmembers=['@test']))
case('t026-replyto-member', '§5 row 26: From non-member, Reply-To: alice@, gen=2',
     M(frm='x@foo.org', extra=['Reply-To: alice@example.com']), GEN2)
case('t027-envelope-member', '§5 row 27: From non-member, unixfrom alice@, gen=2',
     M(frm='x@foo.org'), GEN2, envelope='alice@example.com')
case('t028-sender-member', '§5 row 28: From non-member, Sender: alice@, gen=2',
     M(frm='x@foo.org', extra=['Sender: alice@example.com']), GEN2)
case('t029-from-two-addresses', '§5 row 29: From: x@foo.org, alice@example.com, gen=2',
     M(frm='x@foo.org, alice@example.com'), GEN2)
case('t030-envelope-moderated', '§5 row 30: From non-member, unixfrom bob@ (moderated), gen=0',
     M(frm='x@foo.org'), GEN0, envelope='bob@example.com')
case('t031-first-member-wins', '§5 row 31: From alice@, Reply-To bob@',
     M(extra=['Reply-To: bob@example.com']))
case('t032-replyto-accept-list-ignored',
     '§5 row 32: From non-member, Reply-To ok@foo.org, gen=2',
     M(frm='x@foo.org', extra=['Reply-To: ok@foo.org']), GEN2)
case('t033-sender-accept-list-ignored',
     '§5 row 33: From non-member, Sender ok@foo.org, gen=2',
     M(frm='x@foo.org', extra=['Sender: ok@foo.org']), GEN2)
case('t034-no-from-sender-accept', '§5 row 34: no From, Sender ok@foo.org, gen=2',
     M(frm=None, extra=['Sender: ok@foo.org']), GEN2)
case('t035-envelope-accept', '§5 row 35: no From/Sender, unixfrom ok@foo.org, gen=2',
     M(frm=None), GEN2, envelope='ok@foo.org')
case('t036-equivalent-domains', '§5 row 36: alice@mail.example.com, gen=2',
     M(frm='alice@mail.example.com'), GEN2)
case('t037-emergency-hold', '§5 row 37: member, emergency=1',
     M(), {'emergency': 1})
case('t038-emergency-approved', '§5 row 38: emergency=1, Approved: modpw',
     M(extra=['Approved: modpw']), {'emergency': 1})
case('t039-approved-modpw', '§5 row 39: non-member gen=2, Approved: modpw',
     M(frm='x@foo.org', extra=['Approved: modpw']), GEN2)
case('t040-x-approve-postpw', '§5 row 40: gen=2, X-Approve: postpw',
     M(frm='x@foo.org', extra=['X-Approve: postpw']), GEN2)
case('t041-approved-adminpw', '§5 row 41: gen=2, Approved: adminpw',
     M(frm='x@foo.org', extra=['Approved: adminpw']), GEN2)
case('t042-approved-wrong', '§5 row 42: gen=2, Approved: wrong',
     M(frm='x@foo.org', extra=['Approved: wrong']), GEN2)
case('t043-empty-approved-first', '§5 row 43: gen=2, empty Approved: then Approve: modpw',
     M(frm='x@foo.org', extra=['Approved:', 'Approve: modpw']), GEN2)
case('t044-body-approved', '§5 row 44: gen=2, body first non-blank line approved:postpw',
     M(frm='x@foo.org', body='\napproved:postpw\nhello\n'), GEN2)
case('t045-body-approved-second-line',
     '§5 row 45: gen=2, Approved on 2nd non-blank body line',
     M(frm='x@foo.org', body='hello\nApproved: modpw\n'), GEN2)
case('t046-approved-skips-hold', '§5 row 46: Approved, To other@else.org, 50 KB body',
     M(to='other@else.org', extra=['Approved: modpw'], body=KB50))
TO5 = 'test@example.com, a1@x.org, a2@x.org, a3@x.org, a4@x.org'
CC5 = 'c1@x.org, c2@x.org, c3@x.org, c4@x.org, c5@x.org'
case('t047-too-many-recipients', '§5 row 47: 5 To + 5 Cc addresses',
     M(to=TO5, extra=['Cc: ' + CC5]))
case('t048-nine-recipients', '§5 row 48: 9 addresses',
     M(to=TO5, extra=['Cc: c1@x.org, c2@x.org, c3@x.org, c4@x.org']))
case('t049-recipients-limit-off', '§5 row 49: 10 addresses, max_num_recipients=0',
     M(to=TO5, extra=['Cc: ' + CC5]), {'max_num_recipients': 0})
case('t050-implicit-destination', '§5 row 50: To someone@else.org (Bcc)',
     M(to='someone@else.org'))
case('t051-no-to-cc', '§5 row 51: no To/Cc', M(to=None))
case('t052-local-part-any-domain', '§5 row 52: To test@elsewhere.net',
     M(to='test@elsewhere.net'))
case('t053-resent-cc', '§5 row 53: only Resent-Cc: test@example.com',
     M(to=None, extra=['Resent-Cc: test@example.com']))
case('t054-acceptable-alias', '§5 row 54: To announce-x@y.org, acceptable_aliases ^announce',
     M(to='announce-x@y.org'), {'acceptable_aliases': '^announce'})
case('t055-explicit-dest-off', '§5 row 55: implicit, require_explicit_destination=0',
     M(to='someone@else.org'), {'require_explicit_destination': 0})
case('t056-size-40960', '§5 row 56: body 40960 bytes', M(body=body_of(40960)))
case('t057-size-40961', '§5 row 57: body 40961 bytes', M(body=body_of(40961)))
case('t058-administrivia-body', '§5 row 58: body "subscribe"', M(body='subscribe\n'))
case('t059-administrivia-subject', '§5 row 59: Subject "unsubscribe me"',
     M(subject='unsubscribe me'))
case('t060-administrivia-who-knows', '§5 row 60: Subject "who knows"',
     M(subject='who knows'))
case('t061-administrivia-help-args', '§5 row 61: Subject "help me please"',
     M(subject='help me please'))
case('t062-suspicious-header', '§5 row 62: x@uplinkpro.com, gen=0 (default bounce_matching_headers)',
     M(frm='x@uplinkpro.com'), GEN0)
case('t063-header-rule-encoded', '§5 row 63: Subject =?utf-8?q?cheap_vi=C3=A1gra?=',
     M(subject='=?utf-8?q?cheap_vi=C3=A1gra?='))
case('t064-header-rule-discard', '§5 row 64: X-Spam-Flag: YES',
     M(extra=['X-Spam-Flag: YES']))
case('t065-header-rule-before-approve',
     '§5 row 65: rule HOLD "viagra" + Subject viagra + Approved: modpw',
     M(subject='viagra', extra=['Approved: modpw']),
     {'header_filter_rules': [['viagra', 7, False]]})
case('t066-header-rule-accept-not-approval',
     '§5 row 66: rule ACCEPT matches, non-member, gen=2',
     M(frm='x@foo.org'), gen2(header_filter_rules=[['^subject: hi', 6, False]]))
case('t067-header-rule-reject', '§5 row 67: rule REJECT matches',
     M(), {'header_filter_rules': [['^subject: hi', 2, False]]})
case('t068-loop', '§5 row 68: X-BeenThere: test@example.com',
     M(extra=['X-BeenThere: test@example.com']))
HTML = M(extra=['MIME-Version: 1.0', 'Content-Type: text/html; charset=us-ascii'],
         body='<p>hello</p>\n')
case('t069-mimedel-html-discard', '§5 row 69: text/html only, filter_content=1',
     HTML, {'filter_content': 1})
case('t070-mimedel-html-reject', '§5 row 70: same, filter_action=1',
     HTML, {'filter_content': 1, 'filter_action': 1})
case('t071-urgent-wrong', '§5 row 71: Urgent: wrong', M(extra=['Urgent: wrong']))
DMARC = {'dmarc_moderation_addresses': ['^.*@yahoo\\.com$'],
         'generic_nonmember_action': 0}


def dmarc(action, **kw):
    d = dict(DMARC)
    d['dmarc_moderation_action'] = action
    d.update(kw)
    return d


case('t072-dmarc-reject', '§5 row 72: From z@yahoo.com, dmarc action 3, addresses ^.*@yahoo\\.com$, gen=0',
     M(frm='z@yahoo.com'), dmarc(3))
case('t073-dmarc-discard', '§5 row 73: same, action 4', M(frm='z@yahoo.com'), dmarc(4))
case('t074-dmarc-before-approve', '§5 row 74: same, action 3, Approved: modpw',
     M(frm='z@yahoo.com', extra=['Approved: modpw']), dmarc(3))
case('t075-moderate-before-hold', '§5 row 75: bob@ To a@b.org',
     M(frm='bob@example.com', to='a@b.org'))
case('t076-accept-list-still-hold', '§5 row 76: ok@foo.org (accepted non-member), 50 KB',
     M(frm='ok@foo.org', body=KB50))
case('t077-cpanel-implicit', '§5 row 77: list foo_example.com, To foo@example.com',
     M(to='foo@example.com'), list='foo_example.com')
case('t078-cpanel-internal-name', '§5 row 78: list foo_example.com, To foo_example.com@example.com',
     M(to='foo_example.com@example.com'), list='foo_example.com')
case('t079-owner-nonmember', '§5 row 79: test-owner@, non-member, gen=2',
     M(frm='x@foo.org', to='test-owner@example.com'), GEN2, recipient='owner')
case('t080-owner-rule-reject', '§5 row 80: test-owner@, header rule REJECT matches',
     M(to='test-owner@example.com'),
     {'header_filter_rules': [['^subject: hi', 2, False]]}, recipient='owner')

