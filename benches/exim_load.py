#!/usr/bin/env python3
"""SMTP load client: K messages over C concurrent connections, one message
per connection, to an SMTP server on 127.0.0.1. The client sends QUIT
after the reply to the message and closes without waiting for the 221.

    exim_load.py PORT K C FROM TO

Prints one line: `sent=K ok=N failed=F seconds=S msgs_per_s=R`. A message
counts as ok when DATA ends in a 250. Exits 1 if any message failed.
The message is the realistic post of benches/post.eml.
"""
import os
import socket
import sys
import threading
import time


def recv_reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise IOError('connection closed')
        lines.append(line)
        if len(line) < 4 or line[3:4] != b'-':
            return lines


# The realistic post every benchmark sends (benches/post.eml).
TEMPLATE = open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             'post.eml'), 'rb').read()


def post(sender, rcpt, n):
    """The post from sender to rcpt, message number n, CRLF line ends
    (the template has no line starting with a dot)."""
    text = (TEMPLATE.replace(b'{{SENDER}}', sender)
            .replace(b'{{LIST}}', rcpt)
            .replace(b'{{N}}', str(n).encode()))
    return text.replace(b'\n', b'\r\n')


def one(port, sender, rcpt, n):
    s = socket.create_connection(('127.0.0.1', port), timeout=30)
    f = s.makefile('rb')
    try:
        recv_reply(f)
        for cmd in (b'EHLO load.example\r\n',
                    b'MAIL FROM:<' + sender + b'>\r\n',
                    b'RCPT TO:<' + rcpt + b'>\r\n',
                    b'DATA\r\n'):
            s.sendall(cmd)
            r = recv_reply(f)
            if r[-1][:1] not in (b'2', b'3'):
                return False
        s.sendall(post(sender, rcpt, n) + b'.\r\n')
        ok = recv_reply(f)[-1][:3] == b'250'
        # QUIT without waiting for the 221: Exim's reply to QUIT can sit
        # in a delayed-ACK wait (~200 ms on loopback) that would otherwise
        # bound the rate at C / 0.2 s whatever the server does.
        s.sendall(b'QUIT\r\n')
        return ok
    finally:
        f.close()
        s.close()


def main(argv):
    port, k, c = int(argv[1]), int(argv[2]), int(argv[3])
    sender, rcpt = argv[4].encode(), argv[5].encode()
    lock = threading.Lock()
    state = {'next': 0, 'ok': 0, 'failed': 0}

    def worker():
        while True:
            with lock:
                n = state['next']
                if n >= k:
                    return
                state['next'] = n + 1
            try:
                good = one(port, sender, rcpt, n)
            except (IOError, OSError):
                good = False
            with lock:
                state['ok' if good else 'failed'] += 1

    t = time.time()
    threads = [threading.Thread(target=worker) for _ in range(c)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    dt = time.time() - t
    print('sent=%d ok=%d failed=%d seconds=%.3f msgs_per_s=%.1f'
          % (k, state['ok'], state['failed'], dt, state['ok'] / dt))
    return 1 if state['failed'] else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
