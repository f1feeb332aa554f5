# -*- coding: utf-8 -*-
# Oracle cases for legacy admin passwords, the poster's own text, site
# settings and DMARC by DNS (Python 2 syntax; executed by cases_def.py in
# its namespace: case(), M(), U(), gen2() come from there).
#
# Extra keys of a case:
#   dns            Mailman's own Utils.IsDMARCProhibited runs (dnspython)
#                  against tests/oracle/dmarc_zone.txt served on 127.0.0.1
#                  by the tests' DNS server (oracle.py starts it);
#   gate_undecided Mailman's answer comes from a DNS failure or an order the
#                  server chose (SERVFAIL, a timeout, several TXT records):
#                  the gate must not repeat it but say undecided.
import crypt as _crypt
import md5 as _md5


def H(s):
    """A Python str of any bytes, for overrides."""
    return {'$hex': s.encode('hex')}


def fcase(id, doc, message=None, overrides=None, dns=False,
          gate_undecided=False, **kw):
    case(id, doc, message, overrides, **kw)
    CASES[-1]['dns'] = dns
    CASES[-1]['gate_undecided'] = gate_undecided


MD5PW = H(_md5.new('legacypw').digest())
DESPW = H(_crypt.crypt('despassword', 'ab'))
NONMEMBER = 'x@foo.org'

# ---- legacy admin passwords ------------------------------------------------
fcase('pw01-md5-approved', 'admin password stored as a raw MD5 digest, Approved: legacypw, non-member',
      M(frm=NONMEMBER, extra=['Approved: legacypw']), {'password': MD5PW})
fcase('pw02-md5-wrong', 'raw MD5 admin password, Approved: legacypX (wrong), non-member',
      M(frm=NONMEMBER, extra=['Approved: legacypX']), {'password': MD5PW})
fcase('pw03-des-approved', 'admin password stored as DES crypt, Approve: despassword',
      M(frm=NONMEMBER, extra=['Approve: despassword']), {'password': DESPW})
fcase('pw04-des-first-8', 'DES crypt admin password, Approved: despasswWRONG (same first 8 characters)',
      M(frm=NONMEMBER, extra=['Approved: despasswWRONG']), {'password': DESPW})
fcase('pw05-des-7-chars', 'DES crypt admin password, Approved: despass (7 characters)',
      M(frm=NONMEMBER, extra=['Approved: despass']), {'password': DESPW})
fcase('pw06-des-body-line', 'DES crypt admin password in the first body line',
      M(frm=NONMEMBER, body='Approved: despassword\n\nhello\n'), {'password': DESPW})
fcase('pw07-md5-x-approved', 'raw MD5 admin password in X-Approved:',
      M(frm=NONMEMBER, extra=['X-Approved: legacypw']), {'password': MD5PW})
fcase('pw08-urgent-md5', 'Urgent: with the raw-MD5 admin password, member',
      M(extra=['Urgent: legacypw']), {'password': MD5PW})
fcase('pw09-urgent-des-first-8', 'Urgent: despasswXX with a DES crypt admin password, member',
      M(extra=['Urgent: despasswXX']), {'password': DESPW})
fcase('pw10-urgent-des-wrong', 'Urgent: wrong with a DES crypt admin password: reject',
      M(extra=['Urgent: wrongpassword']), {'password': DESPW})
fcase('pw11-md5-moderator-not-legacy', 'mod_password as a raw MD5 digest is not accepted (SHA1 only)',
      M(frm=NONMEMBER, extra=['Approved: legacypw']), {'mod_password': MD5PW})
fcase('pw12-des-as-post-password', 'post_password as DES crypt is not accepted',
      M(frm=NONMEMBER, extra=['Approved: despassword']), {'post_password': DESPW})
fcase('pw14-md5-wrong-emergency', 'emergency on, wrong password: held',
      M(extra=['Approved: legacyXX']), {'password': MD5PW, 'emergency': 1})
fcase('pw13-md5-emergency', 'emergency on, raw-MD5 admin password approves past it',
      M(extra=['Approved: legacypw']), {'password': MD5PW, 'emergency': 1})

# ---- the poster's own text -------------------------------------------------
fcase('tx01-notice-sender-subject', 'member notice with %(sender)s and %(subject)s over several lines',
      M(frm='bob@example.com', subject='A rather long subject line that makes the notice wrap'),
      {'member_moderation_action': 1, 'member_moderation_notice':
       'Dear %(sender)s, your post "%(subject)s" was refused because this list '
       'only takes posts from its members in good standing.\n\nPlease write to the owner.'})
fcase('tx02-nonmember-subject-percent', 'non-member notice with %(subject)s, Subject with a %',
      M(frm=NONMEMBER, subject='100% sure'),
      gen2(nonmember_rejection_notice='No: %(subject)s (%(listowner)s)'))

# ---- DMARC by DNS ----------------------------------------------------------
PSL = {'DMARC_ORGANIZATIONAL_DOMAIN_DATA_URL': 'file://@ROOT@/tests/oracle/public_suffix_list.dat'}
NOPSL = {'DMARC_ORGANIZATIONAL_DOMAIN_DATA_URL': None}
A3 = {'dmarc_moderation_action': 3}
A4 = {'dmarc_moderation_action': 4}


def dm(id, doc, frm, overrides=A3, site=PSL, **kw):
    fcase(id, doc, M(frm=frm), overrides, dns=True, site=site, **kw)


dm('dm01-reject', 'p=reject, action 3', 'someone@reject.example')
dm('dm02-reject-discard', 'p=reject, action 4', 'someone@reject.example', A4)
dm('dm03-quarantine', 'p=quarantine, action 3', 'someone@quarantine.example')
dm('dm04-quarantine-flag-off', 'p=quarantine, dmarc_quarantine_moderation_action off',
   'someone@quarantine.example', dict(A3, dmarc_quarantine_moderation_action=0))
dm('dm05-none', 'p=none, action 3', 'someone@none.example')
dm('dm06-none-munge', 'p=none, action 1 with dmarc_none_moderation_action', 'someone@none.example',
   {'dmarc_moderation_action': 1, 'dmarc_none_moderation_action': 1})
dm('dm07-split-strings', 'the record in two TXT strings', 'someone@split.example')
dm('dm08-org-sp', 'no record at sub.orgreject.example; organizational domain sp=reject',
   'someone@sub.orgreject.example')
dm('dm09-org-own-p', 'orgreject.example itself: p=none (sp= only for subdomains)',
   'someone@orgreject.example')
dm('dm10-org-p', 'organizational domain with p=reject and no sp=', 'someone@a.b.orgnosp.example')
dm('dm11-two-dmarc-agree', 'two DMARC records, both p=reject', 'someone@twodmarc.example')
dm('dm12-spf-first', 'a v=spf1 record listed before the DMARC one', 'someone@spffirst.example',
   gate_undecided=True)
dm('dm13-cname', '_dmarc CNAME to a p=reject record', 'someone@cname.example')
dm('dm14-cname-upper-target', 'CNAME whose target has upper case (Mailman misses it)',
   'someone@cnameupper.example')
dm('dm15-upper-owner', 'answer owner name in upper case', 'someone@UPPER.example')
dm('dm16-no-policy', 'DMARC record without p=', 'someone@nopolicy.example')
dm('dm17-lowercase-version', 'v=dmarc1 (lower case) is not a DMARC record for Mailman',
   'someone@lower.example')
dm('dm18-empty-p', 'p= empty then sp=reject at the domain itself', 'someone@emptyp.example')
dm('dm19-caps', 'P=REJECT', 'someone@caps.example')
dm('dm20-servfail', 'SERVFAIL: Mailman treats it as prohibited', 'someone@servfail.example',
   gate_undecided=True)
dm('dm21-timeout', 'no answer: Mailman times out and treats it as prohibited',
   'someone@timeout.example', site=dict(PSL, DMARC_RESOLVER_TIMEOUT=1, DMARC_RESOLVER_LIFETIME=1),
   gate_undecided=True)
dm('dm22-truncated-tcp', 'a record too big for UDP: asked again over TCP', 'someone@big.example')
dm('dm23-psl-co-uk', 'a.b.example.co.uk: organizational domain example.co.uk from the list',
   'someone@a.b.example.co.uk')
dm('dm24-no-psl', 'the same without a public suffix list: co.uk, no record',
   'someone@a.b.example.co.uk', site=NOPSL)
dm('dm25-nxdomain', 'no DMARC record anywhere', 'someone@nowhere.example')
dm('dm26-refused', 'REFUSED: Mailman treats it as prohibited', 'someone@refused.example',
   gate_undecided=True)
dm('dm27-no-domain', 'From without a domain: no lookup', 'alice')
dm('dm28-member-no-record', 'member from a domain without a record', 'alice@example.com')
dm('dm29-listed-and-dns', 'in dmarc_moderation_addresses, DNS has no record',
   'someone@nowhere.example', dict(A3, dmarc_moderation_addresses=['someone@nowhere.example']))
dm('dm30-notice', 'p=reject with the list notice', 'someone@reject.example',
   dict(A3, dmarc_moderation_notice='No DMARC-protected domains here, %(sender)s.'))
fcase('dm31-owner', '-owner from a p=reject domain: no DMARC step for the owner',
      M(frm='someone@reject.example', to='test-owner@example.com'), A3, dns=True,
      site=PSL, recipient='owner', envelope='someone@reject.example')
dm('dm32-wrap-reject-domain', 'p=reject, action 2 (wrap): the post goes on', 'someone@reject.example',
   {'dmarc_moderation_action': 2})

# ---- site settings as an administrator writes them -----------------------------
fcase('zf01-sanitizer-0-scrub', 'ARCHIVE_HTML_SANITIZER=0, scrub_nondigest, text/html',
      M(extra=['MIME-Version: 1.0', 'Content-Type: text/html'], body='<p>hi</p>\n'),
      {'scrub_nondigest': 1}, site={'ARCHIVE_HTML_SANITIZER': 0})
fcase('zf02-spammers-and-envelope', 'KNOWN_SPAMMERS two entries, USE_ENVELOPE_SENDER',
      M(frm=NONMEMBER, extra=['Sender: alice@example.com', 'X-Virus: Found']),
      site={'KNOWN_SPAMMERS': [['X-Spam', '^yes'], ['X-Virus', 'found']], 'USE_ENVELOPE_SENDER': True})
fcase('zf03-sender-headers-tuple', "SENDER_HEADERS=('reply-to', None): non-member From, member Reply-To, gen=2",
      M(frm=NONMEMBER, extra=['Reply-To: alice@example.com']), GEN2,
      site={'SENDER_HEADERS': ['reply-to', None]})
