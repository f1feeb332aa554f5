# -*- coding: utf-8 -*-
"""Run GNU Mailman 2.1.39's incoming pipeline on described cases.

Python 2.7 only (Mailman 2.1 is Python 2 code).  See README.md.

  python2.7 oracle.py gen   [--cases cases_def.py] [--out ../../tests/oracle/cases.json]
  python2.7 oracle.py check [--json ../../tests/oracle/cases.json]
  python2.7 oracle.py one ID          # print the outcome of one case

Environment:
  MAILMAN_SRC  directory holding the importable `Mailman` package
               (default /work/oracle/mailman-src)

Each case runs in a forked child: the list is loaded read-only with
MailList.MailList(name, lock=0), overrides are set on the object, the
message is parsed with email.message_from_string(text, Mailman.Message.Message)
(as Switchboard.dequeue does) and the handlers of GLOBAL_PIPELINE (posts)
or OWNER_PIPELINE (-owner) run in order exactly as
IncomingRunner._dopipeline runs them, up to and including CalcRecips
(OwnerRecips for -owner).  Nothing is written: queue enqueues, held-message
storage, pending cookies and list saves are replaced by recorders; DMARC DNS
lookups always answer "not prohibited".
"""

import os
import sys
import json
import base64
import traceback
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
# The DNS server of the cases marked `dns` (tests/common/dns_zone.rs).
DNS_PORT = int(os.environ.get('ORACLE_DNS_PORT', '25653'))
SRC = os.environ.get('MAILMAN_SRC', '/work/oracle/mailman-src')
sys.path.insert(0, SRC)
sys.path.insert(0, HERE)

UNIXFROM_DATE = 'Mon Nov 23 19:00:00 2026'

POST_STOP = 'CalcRecips'       # last handler run for posts
OWNER_STOP = 'OwnerRecips'     # last handler run for -owner


# ---------------------------------------------------------------------------
# JSON value <-> Python 2 value

def to_py(v):
    """JSON-shaped override value -> Python 2 value Mailman would hold."""
    if isinstance(v, dict):
        if v.keys() == ['$unicode']:
            return unicode(v['$unicode'])
        if v.keys() == ['$hex']:
            return str(v['$hex']).decode('hex')
        if v.keys() == ['$latin1']:
            return v['$latin1'].encode('latin-1')
        raise ValueError('unknown tagged value %r' % (v,))
    if isinstance(v, unicode):
        return v.encode('utf-8')
    if isinstance(v, list):
        return [to_py(x) for x in v]
    return v


def to_json(v):
    """Python 2 value (as written in the case descriptions) -> JSON shape."""
    if isinstance(v, unicode):
        return OrderedDict([('$unicode', v)])
    if isinstance(v, str):
        try:
            return v.decode('utf-8')
        except UnicodeDecodeError:
            # A str in another charset (cases_lang.py): its bytes.
            return OrderedDict([('$latin1', v.decode('latin-1'))])
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    if isinstance(v, dict):
        if v.keys() == ['$unicode']:
            return OrderedDict([('$unicode', unicode(v['$unicode']))])
        return OrderedDict((k, to_json(v[k])) for k in sorted(v))
    return v


def apply_overrides(mlist, overrides):
    for k, v in overrides.items():
        if k in ('members', 'digest_members', 'user_options', 'language'):
            # dict given as {key: value}
            v = dict((to_py(a), to_py(b)) for a, b in v.items())
        else:
            v = to_py(v)
        if k == 'header_filter_rules':
            v = [tuple(r) for r in v]
        setattr(mlist, str(k), v)


def message_text(case):
    if case.get('message_b64') is not None:
        text = base64.b64decode(case['message_b64'])
    else:
        text = case['message']
        if isinstance(text, unicode):
            text = text.encode('utf-8')
    env = case.get('envelope')
    if env is not None:
        env = env.encode('utf-8') if isinstance(env, unicode) else env
        text = 'From %s %s\n' % (env, UNIXFROM_DATE) + text
    return text


# ---------------------------------------------------------------------------
# Running one case (in a child process)

def run_case(case):
    from Mailman import mm_cfg
    from Mailman import Errors
    from Mailman import Utils
    from Mailman import MailList
    from Mailman import Message
    from Mailman import i18n
    from Mailman.Queue import Switchboard
    import email

    rec = {'wraps': [], 'reject_args': [], 'held': [], 'enqueued': []}

    # --- recorders / stubs -------------------------------------------------
    real_wrap = Utils.wrap

    def wrap(text, column=70, honor_leading_ws=True):
        res = real_wrap(text, column, honor_leading_ws)
        rec['wraps'].append((text, res))
        return res
    Utils.wrap = wrap

    real_rinit = Errors.RejectMessage.__init__

    def rinit(self, notice=None):
        rec['reject_args'].append(notice)
        real_rinit(self, notice)
    Errors.RejectMessage.__init__ = rinit

    def enqueue(self, _msg, _metadata={}, **_kws):
        import cPickle
        data = _metadata.copy()
        data.update(_kws)
        # what the real enqueue serialises
        if Switchboard.SAVE_MSGS_AS_PICKLES and not data.get('_plaintext'):
            cPickle.dumps(_msg, 1)
        else:
            cPickle.dumps(str(_msg), 0)
        rec['enqueued'].append((_msg, data))
    Switchboard.Switchboard.enqueue = enqueue

    if case.get('dns'):
        # Mailman's own lookups, against the cases' DNS server only.
        import dns.name
        import dns.resolver
        real_init = dns.resolver.Resolver.__init__

        def resolver_init(self, filename='/etc/resolv.conf', configure=True):
            real_init(self, filename, False)
            self.nameservers = ['127.0.0.1']
            self.port = DNS_PORT
            self.domain = dns.name.root
            self.search = []
        dns.resolver.Resolver.__init__ = resolver_init
    else:
        Utils.IsDMARCProhibited = lambda mlist, email: False

    def HoldMessage(self, msg, reason, msgdata={}):
        rec['held'].append(reason)
        return 1
    MailList.MailList.HoldMessage = HoldMessage
    MailList.MailList.pend_new = lambda self, op, *content, **kws: 'c' * 40
    MailList.MailList.Save = lambda self: None

    # --- site settings -------------------------------------------------------
    for k, v in (case.get('site') or {}).items():
        v = to_py(v)
        if isinstance(v, str):
            v = v.replace('@ROOT@', ROOT)
        if k == 'KNOWN_SPAMMERS':
            v = [tuple(x) for x in v]
        elif k == 'MESSAGES_DIR' and v == 'catalogs':
            # cases_lang.py: Mailman's own catalogs, compiled from its .po.
            import cases_lang
            v = cases_lang.compiled_catalogs()
        elif k == 'SENDER_HEADERS':
            v = tuple(v)
        setattr(mm_cfg, str(k), v)

    # --- lists -------------------------------------------------------------
    # Other lists (for @list references) are opened by Mailman itself; apply
    # their overrides by patching MailList.Load for those names.
    others = case.get('other_overrides') or {}
    if others:
        real_load = MailList.MailList.Load

        def Load(self, check_version=True):
            real_load(self, check_version)
            ov = others.get(self.internal_name())
            if ov:
                apply_overrides(self, ov)
        MailList.MailList.Load = Load

    mlist = MailList.MailList(str(case['list']), lock=0)
    apply_overrides(mlist, case.get('overrides') or {})

    text = message_text(case)
    msg = email.message_from_string(text, Message.Message)

    recipient = case.get('recipient', 'post')
    if recipient == 'post':
        msgdata = {'listname': mlist.internal_name(), 'tolist': 1}
        pipeline = list(getattr(mlist, 'pipeline', mm_cfg.GLOBAL_PIPELINE))
        stop = POST_STOP
    elif recipient == 'owner':
        msgdata = {'listname': mlist.internal_name(),
                   'envsender': Utils.get_site_email(extra='bounces'),
                   'pipeline': mm_cfg.OWNER_PIPELINE[:],
                   'toowner': 1}
        pipeline = list(mm_cfg.OWNER_PIPELINE)
        stop = OWNER_STOP
    else:
        raise ValueError('recipient %r not supported' % recipient)
    pipeline = pipeline[:pipeline.index(stop) + 1]

    out = OrderedDict([('action', 'accept'), ('step', None),
                       ('reason', None), ('notice', None), ('mailed', None)])
    # Runner._onefile (an exception here also shunts the message)
    try:
        sender = msg.get_sender()
        lang = mlist.getMemberLanguage(sender)
    except Exception, e:
        out['action'] = 'shunt'
        out['error'] = 'Runner: %s: %s' % (e.__class__.__name__, e)
        return out
    i18n.set_language(lang)
    msgdata['lang'] = lang
    if lang != 'en':
        # Texts are bytes in the language's charset.
        out['_charset'] = Utils.GetCharSet(lang)

    for handler in pipeline:
        modname = 'Mailman.Handlers.' + handler
        __import__(modname)
        del rec['wraps'][:]
        del rec['reject_args'][:]
        del rec['held'][:]
        try:
            sys.modules[modname].process(mlist, msg, msgdata)
        except Errors.DiscardMessage:
            out['action'] = 'discard'
            out['step'] = handler
            return out
        except Errors.HoldMessage, e:
            out['action'] = 'hold'
            out['step'] = handler
            out['reason'] = rec['held'][-1] if rec['held'] else None
            return out
        except Errors.RejectMessage, e:
            out['action'] = 'reject'
            out['step'] = handler
            notice = e.notice()
            arg = rec['reject_args'][-1] if rec['reject_args'] else None
            reason = arg
            for before, after in rec['wraps']:
                if after is arg or (arg is not None and after == arg):
                    reason = before
            if reason is None:
                reason = 'Your message was rejected'
            out['reason'] = reason
            out['notice'] = notice
            # What the sender receives: IncomingRunner hands the exception
            # to MailList.BounceMessage.
            del rec['enqueued'][:]
            try:
                mlist.BounceMessage(msg, msgdata, e)
            except Exception, be:
                out['action'] = 'shunt'
                out['error'] = 'BounceMessage: %s: %s' % (
                    be.__class__.__name__, be)
                return out
            bmsg = rec['enqueued'][-1][0]
            part = bmsg.get_payload(0)
            out['mailed'] = part.get_payload(decode=True)
            if lang != 'en':
                # The notice's bytes are in the sender's language's charset,
                # unless email converted them (ISO-2022-JP for a Japanese list).
                import email.charset
                lcs = email.charset.Charset(Utils.GetCharSet(mlist.preferred_language))
                cs = Utils.GetCharSet(lang)
                if lcs.get_output_charset() != lcs.input_charset:
                    cs = lcs.get_output_charset()
                out['mailed'] = out['mailed'].decode(cs, 'replace')
            return out
        except Exception, e:
            out['action'] = 'shunt'
            out['step'] = handler
            out['error'] = '%s: %s' % (e.__class__.__name__, e)
            return out
    return out


def jsonable_outcome(out):
    res = OrderedDict()
    charset = out.pop('_charset', None)
    for k, v in out.items():
        if isinstance(v, str):
            if charset:
                v = v.decode(charset, 'replace')
            else:
                try:
                    v = v.decode('utf-8')
                except UnicodeDecodeError:
                    v = v.decode('latin-1')
        res[k] = v
    return res


def run_isolated(case):
    """Fork; run the case in the child; return its outcome (JSON shape)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            try:
                out = jsonable_outcome(run_case(case))
                data = json.dumps(out)
            except Exception:
                data = json.dumps({'harness_error': traceback.format_exc()})
            os.write(w, data)
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    while True:
        c = os.read(r, 65536)
        if not c:
            break
        chunks.append(c)
    os.close(r)
    os.waitpid(pid, 0)
    out = json.loads(''.join(chunks), object_pairs_hook=OrderedDict)
    if 'harness_error' in out:
        raise RuntimeError('case %s: %s' % (case['id'], out['harness_error']))
    return out


# ---------------------------------------------------------------------------
# Case descriptions -> JSON

FIELDS = ('id', 'doc', 'list', 'overrides', 'other_overrides', 'site',
          'recipient', 'envelope', 'message', 'message_b64')


def case_to_json(c):
    d = OrderedDict()
    d['id'] = to_json(c['id'])
    d['doc'] = to_json(c['doc'])
    d['list'] = c.get('list', 'test')
    d['overrides'] = to_json(c.get('overrides') or {})
    if c.get('other_overrides'):
        d['other_overrides'] = to_json(c['other_overrides'])
    if c.get('site'):
        d['site'] = to_json(c['site'])
    for flag in ('dns', 'gate_undecided'):
        if c.get(flag):
            d[flag] = True
    d['recipient'] = c.get('recipient', 'post')
    d['envelope'] = c.get('envelope')
    msg = c['message']
    try:
        msg.decode('utf-8')
        d['message'] = msg.decode('utf-8')
    except UnicodeDecodeError:
        d['message_b64'] = base64.b64encode(msg)
    return d


def dump(cases, path):
    text = json.dumps(cases, indent=2, ensure_ascii=False,
                      separators=(',', ': '))
    if isinstance(text, unicode):
        text = text.encode('utf-8')
    with open(path, 'w') as fp:
        fp.write(text + '\n')


def main(argv):
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument('cmd', choices=('gen', 'check', 'one'))
    p.add_argument('id', nargs='?')
    p.add_argument('--cases', default=os.path.join(HERE, 'cases_def.py'))
    p.add_argument('--out', default=os.path.join(
        HERE, '..', '..', 'tests', 'oracle', 'cases.json'))
    a = p.parse_args(argv)
    dns_server = start_dns_server()
    try:
        return run(a)
    finally:
        if dns_server:
            dns_server.terminate()
            dns_server.wait()


def start_dns_server():
    """The zone of the `dns` cases, served as the Rust tests serve it."""
    import subprocess
    import time
    exe = os.path.join(ROOT, 'target', 'release', 'examples', 'dmarc_dns_server')
    if not os.path.exists(exe):
        raise SystemExit('build it first: cargo build --release --example dmarc_dns_server')
    proc = subprocess.Popen([exe, os.path.join(ROOT, 'tests', 'oracle', 'dmarc_zone.txt'),
                             str(DNS_PORT)], stdout=subprocess.PIPE)
    proc.stdout.readline()     # "serving ..." once it listens
    time.sleep(0.1)
    return proc


def run(a):
    if a.cmd in ('gen', 'one'):
        ns = {'__file__': os.path.abspath(a.cases)}
        execfile(a.cases, ns)
        defs = ns['CASES']
        seen = set()
        result = []
        for c in defs:
            if c['id'] in seen:
                raise SystemExit('duplicate id %s' % c['id'])
            seen.add(c['id'])
            if a.cmd == 'one' and c['id'] != a.id:
                continue
            j = case_to_json(c)
            j['expect'] = run_isolated(j)
            result.append(j)
            if a.cmd == 'one':
                print json.dumps(j, indent=2)
        if a.cmd == 'gen':
            dump(result, a.out)
            counts = {}
            for j in result:
                counts[j['expect']['action']] = \
                    counts.get(j['expect']['action'], 0) + 1
            print '%d cases written to %s: %s' % (len(result), a.out, counts)
    else:
        cases = json.load(open(a.out), object_pairs_hook=OrderedDict)
        bad = 0
        for j in cases:
            got = run_isolated(j)
            if got != j['expect']:
                bad += 1
                print 'MISMATCH %s\n  want %s\n  got  %s' % (
                    j['id'], json.dumps(j['expect']), json.dumps(got))
        print '%d cases, %d mismatches' % (len(cases), bad)
        return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
