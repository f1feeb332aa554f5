# -*- coding: utf-8 -*-
"""Random Python 2 literals and Python's own value for each
(ast.literal_eval under Python 2.7), for tests/mmcfg_corpus.rs:

    PYENV_VERSION=2.7.18 python2.7 tools/oracle/mmcfg_literals.py \
        > tests/fixtures/mmcfg/literals.jsonl

One JSON object a line: {"src": SOURCE, "value": VALUE} in the value
encoding of mmcfg_eval.py. The seed is fixed: the file is reproducible.
"""
import ast
import json
import random
import sys

from mmcfg_eval import to_json

R = random.Random(2139)

PIECES = ['a', 'Z', ' ', '#', 'x', '9', '\\n', '\\t', '\\x41', '\\x7e', '\\101',
          '\\0', '\\7', '\\\\', "\\'", '\\"', '\\u00e9', '\\U0001F600', '\\q',
          '\\a', '\\v', '%(listname)s', '^\\s*[Yy]es', '\\\n', '\xc3\xa9']


def string():
    prefix = R.choice(['', '', 'r', 'u', 'ur', 'b', 'R', 'U', 'uR', 'B', 'br'])
    quote = R.choice(["'", '"', "'''", '"""'])
    body = ''.join(R.choice(PIECES) for _ in range(R.randint(0, 6)))
    if len(quote) == 3 and R.random() < 0.5:
        body += '\nsecond line'
    src = prefix + quote + body + quote
    return src


def number():
    return R.choice(['0', '7', '-3', '25', '0x1F', '0777', '10L', '1.5', '-2.5e-3',
                     '1e3', '+4', '2147483648', '.5', '0o17', '0b101'])


def atom(depth):
    k = R.random()
    if depth < 3 and k < 0.25:
        items = [expr(depth + 1) for _ in range(R.randint(0, 4))]
        sep = R.choice([', ', ',\n    ', ' , '])
        trail = R.choice(['', ',']) if items else ''
        if R.random() < 0.5:
            return '[' + sep.join(items) + trail + ']'
        if len(items) == 1 and not trail:
            trail = ','
        return '(' + sep.join(items) + trail + ')'
    if k < 0.65:
        s = string()
        if R.random() < 0.3:
            s += R.choice([' ', '\n', ' \\\n ']) + string()
        return s
    if k < 0.85:
        return number()
    return R.choice(['True', 'False', 'None'])


def expr(depth=0):
    a = atom(depth)
    if R.random() < 0.15:
        a += ' + ' + atom(depth)
    return a


def main():
    out = 0
    tries = 0
    while out < 400 and tries < 20000:
        tries += 1
        src = expr()
        full = '# -*- coding: utf-8 -*-\nX = (' + src + '\n)\n'
        try:
            tree = compile(full, 'x', 'exec', ast.PyCF_ONLY_AST)
            ns = {}
            exec compile(full, 'x', 'exec') in ns
            value = ns['X']
            # Only what ast.literal_eval also takes (no other expressions).
            ast.literal_eval(tree.body[0].value) if '+' not in src else None
        except (SyntaxError, ValueError, TypeError, UnicodeDecodeError):
            continue
        sys.stdout.write(json.dumps({'src': src, 'value': to_json(value)}) + '\n')
        out += 1


if __name__ == '__main__':
    main()
