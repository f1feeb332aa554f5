# -*- coding: utf-8 -*-
# Languages and charsets (executed by cases_def.py; also a module for
# oracle.py and a tool):
#
#   python2.7 cases_lang.py excerpt   # writes tests/oracle/catalogs/<lang>.po
#
# The cases run with Mailman's own catalogs: its messages/<lang>/
# LC_MESSAGES/mailman.po compiled with its bin/msgfmt.py (site MESSAGES_DIR
# 'catalogs'). tests/oracle.rs builds its catalogs from the committed
# excerpt: the entries of the texts below, as Mailman's catalogs have them.
import os
import subprocess

LANGS = ['de', 'fr', 'ja', 'ru', 'zh_CN', 'ko', 'he']
CHARSET = {'de': 'iso-8859-1', 'fr': 'iso-8859-1', 'ja': 'euc-jp', 'ru': 'utf-8',
           'zh_CN': 'utf-8', 'ko': 'euc-kr', 'he': 'utf-8'}
# The handler texts the gate words (src/decide/text.rs).
MSGIDS = [
    'Message rejected by filter rule match',
    'Header matched regexp: %(pattern)s',
    'Message body is too big: %(size)d bytes with a limit of\n%(limit)d KB',
    "Your message has been rejected, probably because you are not subscribed to the\n"
    "mailing list and the list's policy is to prohibit non-members from posting to\n"
    "it.  If you think that your messages are being rejected in error, contact the\n"
    "mailing list owner at %(listowner)s.",
    'Your urgent message to the %(realname)s mailing list was not authorized for\n'
    'delivery.  The original message as received by Mailman is attached.\n',
    'Post to moderated list',
    'Post by non-member to a members-only list',
    'Your message was rejected',
]


def compiled_catalogs():
    """Mailman's catalogs for LANGS, compiled once; the MESSAGES_DIR."""
    src = os.environ.get('MAILMAN_SRC', '/work/oracle/mailman-src')
    out = '/tmp/mailman-gate-oracle-catalogs/messages'
    for lang in LANGS:
        d = os.path.join(out, lang, 'LC_MESSAGES')
        mo = os.path.join(d, 'mailman.mo')
        if not os.path.exists(mo):
            if not os.path.isdir(d):
                os.makedirs(d)
            po = os.path.join(src, 'messages', lang, 'LC_MESSAGES', 'mailman.po')
            # As Mailman's build does (messages/Makefile: bin/msgfmt.py).
            subprocess.check_call(['python2.7', os.path.join(src, 'bin', 'msgfmt.py'),
                                   '-o', mo + '.tmp', po])
            os.rename(mo + '.tmp', mo)
    return out


def excerpt():
    import gettext
    here = os.path.dirname(os.path.abspath(__file__))
    dest = os.path.join(here, '..', '..', 'tests', 'oracle', 'catalogs')
    if not os.path.isdir(dest):
        os.makedirs(dest)
    messages = compiled_catalogs()
    for lang in LANGS:
        t = gettext.translation('mailman', messages, [lang])
        cs = t.charset()
        lines = ['# Entries of Mailman 2.1.39\'s messages/%s/LC_MESSAGES/mailman.po' % lang,
                 '# for the texts tests/oracle.rs needs (tools/oracle/cases_lang.py excerpt).',
                 'msgid ""', 'msgstr "Content-Type: text/plain; charset=%s\\n"' % cs, '']

        def q(s):
            return '"%s"' % s.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')
        for m in MSGIDS:
            tr = t._catalog.get(m)
            if tr is None:
                continue
            lines.append('msgid ' + q(m))
            lines.append('msgstr ' + q(tr.encode(cs)))
            lines.append('')
        with open(os.path.join(dest, lang + '.po'), 'w') as fp:
            fp.write('\n'.join(lines))


def _lang_cases():
    site = {'MESSAGES_DIR': 'catalogs'}

    # A non-member: the list's language (the fixture's members have their
    # own, 'en'). generic_nonmember_action 0 lets the post go on.
    stranger = 'stranger@example.net'

    def lst(lang, **kw):
        d = {'preferred_language': lang, 'available_languages': ['en', lang],
             'generic_nonmember_action': 0}
        d.update(kw)
        return d

    # A pattern per language, stored as str in the list's charset, and the
    # same text in a Subject encoded word in that charset.
    words = {'de': u'Gr\xfc\xdfe', 'fr': u'\xc9t\xe9', 'ja': u'\u691c\u67fb',
             'ru': u'\u0441\u043f\u0430\u043c', 'zh_CN': u'\u5e7f\u544a',
             'ko': u'\uad11\uace0', 'he': u'\u05e1\u05e4\u05d0\u05dd'}
    import base64 as b64
    for lang in LANGS:
        cs = CHARSET[lang]
        w = words[lang]
        subj = '=?%s?b?%s?=' % (cs, b64.b64encode(w.encode(cs)))
        case('lang-%s-nonmember-reject' % lang,
             '%s list: a non-member is rejected in %s' % (lang, lang),
             M(frm='stranger@example.net'),
             lst(lang, generic_nonmember_action=2), site=site)
        case('lang-%s-filter-reject-str' % lang,
             '%s list: str pattern in %s against an encoded Subject: reject' % (lang, cs),
             M(frm=stranger, subject=subj),
             lst(lang, header_filter_rules=[('^subject: .*' + w.encode(cs), 2, False)]),
             site=site)
        case('lang-%s-filter-hold-unicode' % lang,
             '%s list: unicode pattern, hold reason in %s with the pattern' % (lang, lang),
             M(frm=stranger, subject=subj),
             lst(lang, header_filter_rules=[(U(u'^subject: .*' + w), 7, False)]),
             site=site)
        case('lang-%s-filter-hold-unfit' % lang,
             '%s list: pattern characters %s lacks become ?' % (lang, cs),
             M(frm=stranger,
               subject='=?utf-8?b?%s?=' % b64.b64encode(u'\u0e01\u0e02'.encode('utf-8'))),
             lst(lang, header_filter_rules=[(U(u'^subject: \u0e01\u0e02'), 7, False)]),
             site=site)
        case('lang-%s-too-big' % lang,
             '%s list: too big, reason in %s' % (lang, lang),
             M(frm=stranger, body='x' * 2000 + '\n'), lst(lang, max_message_size=1),
             site=site)
        case('lang-%s-member-default' % lang,
             '%s list: member alice has her own language en: too big in English' % lang,
             M(body='x' * 2000 + '\n'), lst(lang, max_message_size=1), site=site)
    # Members with their own language on an English list.
    for lang in ['de', 'ja', 'he']:
        case('lang-member-own-%s' % lang,
             'English list, member alice speaks %s: too-big reason in %s' % (lang, lang),
             M(body='x' * 2000 + '\n'),
             {'available_languages': ['en', lang], 'max_message_size': 1,
              'language': {'alice@example.com': lang}}, site=site)
    case('lang-member-own-unavailable',
         'member language not offered by the list: the list language',
         M(body='x' * 2000 + '\n'),
         {'available_languages': ['en'], 'max_message_size': 1,
          'language': {'alice@example.com': 'de'}}, site=site)
    # A Japanese list: the bounce is converted from EUC-JP to ISO-2022-JP.
    ja = lst('ja')
    ja_de = dict(ja, language={'alice@example.com': 'de'},
                 available_languages=['en', 'ja', 'de'])
    case('lang-ja-member-de-urgent-shunt',
         'ja list, member alice speaks de: the German Urgent reject is not EUC-JP; '
         'the bounce fails and Mailman shunts',
         M(extra=['Urgent: wrong']), ja_de, site=site)
    case('lang-ja-member-de-filter-reject',
         'ja list, member alice speaks de: an ASCII German reject converts fine',
         M(subject='spam'), dict(ja_de, header_filter_rules=[('^subject: spam', 2, False)]),
         site=site)
    case('lang-ja-unicode-notice-unfit',
         'ja list: a unicode rejection notice with Thai cannot be ISO-2022-JP: shunt',
         M(frm=stranger),
         dict(ja, generic_nonmember_action=2,
              nonmember_rejection_notice=U(u'\u0e01\u0e02 rejected')), site=site)
    case('lang-ja-unicode-notice-fits',
         'ja list: a unicode rejection notice in Japanese converts fine',
         M(frm=stranger),
         dict(ja, generic_nonmember_action=2,
              nonmember_rejection_notice=U(u'\u62d2\u5426 %(listowner)s')), site=site)
    case('lang-ja-str-hold-eucjp',
         'ja list: str pattern in EUC-JP, hold reason in Japanese with the pattern',
         M(frm=stranger, subject='=?iso-2022-jp?b?%s?=' % b64.b64encode(
             u'\u691c\u67fb'.encode('iso-2022-jp'))),
         dict(ja, header_filter_rules=[('^subject: ' + u'\u691c\u67fb'.encode('euc-jp'),
                                        7, False)]), site=site)
    case('lang-ja-str-notice-eucjp',
         'ja list: the rejection notice is a str in EUC-JP',
         M(frm=stranger),
         dict(ja, generic_nonmember_action=2,
              nonmember_rejection_notice=u'\u62d2\u5426\u3057\u307e\u3057\u305f '
                                         u'%(listowner)s'.encode('euc-jp')), site=site)
    case('lang-de-str-notice-latin1',
         'de list: the rejection notice is a str in ISO-8859-1',
         M(frm=stranger),
         lst('de', generic_nonmember_action=2,
             nonmember_rejection_notice=u'Abgelehnt, Gr\xfc\xdfe'.encode('iso-8859-1')),
         site=site)
    case('lang-fr-member-own-urgent',
         'English list, member alice speaks fr: the Urgent reject in French',
         M(extra=['Urgent: wrong']),
         {'available_languages': ['en', 'fr'], 'language': {'alice@example.com': 'fr'}},
         site=site)
    case('lang-absent-catalog',
         'a list language Mailman has no catalog for here (es): English',
         M(frm=stranger), lst('es', generic_nonmember_action=2), site=site)
    # Encoded words in each charset against a unicode REJECT rule on an
    # English list.
    text = u'\u691c\u67fb'
    for cs in ['iso-2022-jp', 'shift_jis', 'euc-jp', 'utf-16', 'utf-16-be', 'utf-7',
               'gb2312', 'gbk', 'gb18030', 'big5', 'euc-kr', 'cp932']:
        try:
            enc = text.encode(cs)
        except UnicodeEncodeError:
            continue
        case('charset-ew-%s' % cs,
             'Subject encoded word in %s against a unicode REJECT rule' % cs,
             M(subject='=?%s?b?%s?=' % (cs, b64.b64encode(enc))),
             {'header_filter_rules': [(U(u'^subject: ' + text), 2, False)]})
    for cs, t in [('koi8-r', u'\u0441\u043f\u0430\u043c'), ('windows-1251', u'\u0441\u043f\u0430\u043c'),
                  ('iso-8859-8', u'\u05e1\u05e4\u05d0\u05dd'), ('tis-620', u'\u0e01\u0e02'),
                  ('iso-8859-2', u'\u0141\xf3d\u017a'), ('windows-1256', u'\u0633\u0628\u0627\u0645')]:
        case('charset-ew-%s' % cs,
             'Subject encoded word in %s against a unicode REJECT rule' % cs,
             M(subject='=?%s?q?%s?=' % (cs, ''.join('=%02X' % ord(c) for c in t.encode(cs)))),
             {'header_filter_rules': [(U(u'^subject: ' + t), 2, False)]})
    case('charset-ew-iso-2022-jp-roman',
         'iso-2022-jp encoded word with JIS X 0201 Roman (yen sign) and JIS X 0208',
         M(subject='=?iso-2022-jp?b?%s?=' % b64.b64encode('\x1b(J\\\x1b$B8!::\x1b(B')),
         {'header_filter_rules': [(U(u'^subject: \xa5\u691c\u67fb'), 2, False)]})


if __name__ == '__main__':
    import sys
    if sys.argv[1:] == ['excerpt']:
        excerpt()
elif 'case' in globals():
    _lang_cases()
