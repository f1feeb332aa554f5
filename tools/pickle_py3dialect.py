#!/usr/bin/env python3
"""pickle_py3dialect.py - rewrite a Mailman 2.1 config.pck the way cPanel's
Python 3 port of Mailman 2 (mailman2-python3) writes it.

Usage
  pickle_py3dialect.py IN.pck OUT.pck

The input (a CPython 2 cPickle file, e.g. from py2pickle.py) is loaded with
pickle.loads(encoding='bytes'), and the object graph is converted as the
Python 3 port holds it: a Python 2 str that is ASCII becomes a Python 3 str,
any other str stays bytes, unicode stays str, old-style instances become
instances of new-style classes of the same module and name.  The result is
written with Python 3's pickle.dumps(obj, protocol=1, fix_imports=True), so
every string is BINUNICODE, bytes are `_codecs.encode(text, 'latin1')`
REDUCEs and instances are `copy_reg._reconstructor(cls, object, None)`
REDUCE + BUILD.  Shared objects stay shared (memo PUT/GET).
"""
import io
import pickle
import sys
import types

_CLASSES = {}


def real_class(module, name):
    """A new-style class importable as module.name (so pickle finds it)."""
    key = (module, name)
    if key not in _CLASSES:
        parts = module.split('.')
        for i in range(1, len(parts) + 1):
            mname = '.'.join(parts[:i])
            if mname not in sys.modules:
                sys.modules[mname] = types.ModuleType(mname)
                if i > 1:
                    setattr(sys.modules['.'.join(parts[:i - 1])], parts[i - 1],
                            sys.modules[mname])
        cls = type(name, (), {'__module__': module})
        cls.__qualname__ = name
        setattr(sys.modules[module], name, cls)
        _CLASSES[key] = cls
    return _CLASSES[key]


class _Loaded:
    """An instance as loaded from the Python 2 file."""
    def __init__(self, *args):
        self.args = args
        self.state = None

    def __setstate__(self, state):
        self.state = state


_LOADED = {}


def _reconstructor(cls, base, state):
    return cls.__new__(cls)


class Py2Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ('copy_reg', '_reconstructor'):
            return _reconstructor
        if (module, name) == ('__builtin__', 'object'):
            return object
        key = (module, name)
        if key not in _LOADED:
            _LOADED[key] = type(name, (_Loaded,), {'_mod': module, '_name': name})
        return _LOADED[key]


def convert(x, memo):
    if id(x) in memo:
        return memo[id(x)]
    if isinstance(x, bytes):
        try:
            r = x.decode('ascii')
        except UnicodeDecodeError:
            r = x
    elif isinstance(x, tuple):
        r = tuple(convert(e, memo) for e in x)
    elif isinstance(x, list):
        r = []
        memo[id(x)] = r
        r.extend(convert(e, memo) for e in x)
    elif isinstance(x, dict):
        r = {}
        memo[id(x)] = r
        for k, v in x.items():
            r[convert(k, memo)] = convert(v, memo)
    elif isinstance(x, type) and issubclass(x, _Loaded):
        r = real_class(x._mod, x._name)
    elif isinstance(x, _Loaded):
        cls = real_class(type(x)._mod, type(x)._name)
        r = cls.__new__(cls)
        memo[id(x)] = r
        state = getattr(x, "state", None)
        state = {} if state is None else convert(state, memo)
        if isinstance(state, dict):
            r.__dict__.update(state)
    else:
        r = x
    memo[id(x)] = r
    return r


def main(argv):
    src, dst = argv
    with open(src, 'rb') as f:
        obj = Py2Unpickler(io.BytesIO(f.read()), encoding='bytes').load()
    out = pickle.dumps(convert(obj, {}), protocol=1, fix_imports=True)
    with open(dst, 'wb') as f:
        f.write(out)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
