#!/usr/bin/env python3
"""pickle_canon.py - render pickles in the canonical JSON form of the Rust
reader's Pickle::to_canonical_json(), using CPython's own unpickler.

Usage
  pickle_canon.py FILE...          writes FILE.canon.json next to each FILE
  pickle_canon.py --stdout FILE    prints the rendering of one FILE

Each file is read with pickle.Unpickler(encoding='bytes') (the C unpickler);
every class or function reference resolves to a stub, except the few the
Python 3 dialect of Mailman's config.pck needs (copy_reg._reconstructor,
_codecs.encode, __builtin__.bytes).

Canonical form (no whitespace, json.dumps(ensure_ascii=True)):
  None/True/False -> null/true/false;  int -> {"i": "<decimal>"};
  float -> {"f": "<16 hex digits of the big-endian IEEE-754 bits>"};
  bytes -> {"b": "<hex>"};  str -> {"u": text} (a surrogate pair is joined,
  a lone surrogate becomes U+FFFD);  tuple/list -> {"t": [...]}/{"l": [...]};
  dict -> {"d": [[k, v], ...]} in insertion order;
  class reference -> {"g": [module, name]};
  instance -> {"inst": [module, name, [args...], state or null]}.
"""
import codecs
import io
import json
import pickle
import struct
import sys

_STUBS = {}


def _stub_new(cls, *args):
    o = object.__new__(cls)
    o._pk_args = list(args)
    o._pk_state = None
    return o


def _stub_init(self, *args):
    pass


def _stub_setstate(self, state):
    self._pk_state = state


def stub_class(module, name):
    key = (module, name)
    if key not in _STUBS:
        _STUBS[key] = type(name, (), {
            '__module__': module, '_pk_module': module, '_pk_name': name,
            '__new__': _stub_new, '__init__': _stub_init,
            '__setstate__': _stub_setstate})
    return _STUBS[key]


def _reconstructor(cls, base, state):
    return cls.__new__(cls)


class CanonUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in (('copy_reg', '_reconstructor'),
                              ('copyreg', '_reconstructor')):
            return _reconstructor
        if (module, name) in (('_codecs', 'encode'), ('codecs', 'encode')):
            return codecs.encode
        if (module, name) in (('__builtin__', 'bytes'), ('builtins', 'bytes')):
            return bytes
        return stub_class(module, name)


def load(data):
    return CanonUnpickler(io.BytesIO(data), encoding='bytes').load()


def fix_text(s):
    return s.encode('utf-16-le', 'surrogatepass').decode('utf-16-le', 'replace')


def canon(x):
    if x is None or isinstance(x, bool):
        return x
    if isinstance(x, int):
        return {'i': str(x)}
    if isinstance(x, float):
        return {'f': struct.pack('>d', x).hex()}
    if isinstance(x, bytes):
        return {'b': x.hex()}
    if isinstance(x, str):
        return {'u': fix_text(x)}
    if isinstance(x, tuple):
        return {'t': [canon(e) for e in x]}
    if isinstance(x, list):
        return {'l': [canon(e) for e in x]}
    if isinstance(x, dict):
        return {'d': [[canon(k), canon(v)] for k, v in x.items()]}
    if isinstance(x, type) and hasattr(x, '_pk_module'):
        return {'g': [x._pk_module, x._pk_name]}
    t = type(x)
    if hasattr(t, '_pk_module'):
        return {'inst': [t._pk_module, t._pk_name,
                         [canon(a) for a in x._pk_args], canon(x._pk_state)]}
    raise TypeError('cannot render %r' % (x,))


def render(data):
    return json.dumps(canon(load(data)), ensure_ascii=True,
                      separators=(',', ':'))


def main(argv):
    sys.setrecursionlimit(10000)
    if argv and argv[0] == '--stdout':
        with open(argv[1], 'rb') as f:
            sys.stdout.write(render(f.read()))
        return 0
    for path in argv:
        with open(path, 'rb') as f:
            out = render(f.read())
        with open(path + '.canon.json', 'w', encoding='ascii') as f:
            f.write(out)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
