#!/usr/bin/env python
"""The old approach, as a baseline: one process per check that loads a
Mailman 2.1 list's config.pck and tests whether the sender is a member.

    seed_baseline.py CONFIG_PCK SENDER

Exits 0 for a member (regular or digest), 1 for a non-member, 2 on a usage
error. Under Python 2 (as Mailman's own tools run) it uses cPickle; under
Python 3 pickle.load(encoding='latin1'). Mailman.Bouncer._BounceInfo, the
only class a config.pck refers to, is a stub.
"""
import sys
import types


def _stub_bounceinfo():
    pkg = types.ModuleType('Mailman')
    mod = types.ModuleType('Mailman.Bouncer')

    class _BounceInfo:
        def __init__(self, *args):
            pass

    _BounceInfo.__module__ = 'Mailman.Bouncer'
    mod._BounceInfo = _BounceInfo
    pkg.Bouncer = mod
    sys.modules['Mailman'] = pkg
    sys.modules['Mailman.Bouncer'] = mod


def load(path):
    _stub_bounceinfo()
    f = open(path, 'rb')
    try:
        if sys.version_info[0] == 2:
            import cPickle
            return cPickle.load(f)
        import pickle
        return pickle.load(f, encoding='latin1')
    finally:
        f.close()


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    d = load(argv[1])
    sender = argv[2].lower()
    # MailList.isMember: members or digest_members, keyed by the
    # lowercased address.
    member = sender in d.get('members', {}) or sender in d.get('digest_members', {})
    sys.stdout.write('member\n' if member else 'non-member\n')
    return 0 if member else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
