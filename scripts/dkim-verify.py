#!/usr/bin/env python3
"""Verify the DKIM signatures of messages with dkimpy, reading keys from one DNS server.

Usage: dkim-verify.py HOST:PORT FILE.eml...
Prints one JSON line per file: {"file", "ok", "signatures": [{"d", "s", "a", "ok"}]}.
Every signature of a message must verify for "ok" to be true.
"""
import json
import sys

import dkim
import dns.message
import dns.query
import dns.rdatatype


def make_dnsfunc(host, port):
    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode('ascii')
        query = dns.message.make_query(name, dns.rdatatype.TXT)
        # TCP: a 2048-bit key's record does not fit a plain 512-byte UDP answer.
        answer = dns.query.tcp(query, host, port=port, timeout=timeout)
        for rrset in answer.answer:
            for rdata in rrset:
                if rdata.rdtype == dns.rdatatype.TXT:
                    return b''.join(rdata.strings)
        return None

    return dnsfunc


def main():
    host, port = sys.argv[1].rsplit(':', 1)
    dnsfunc = make_dnsfunc(host, int(port))
    for path in sys.argv[2:]:
        with open(path, 'rb') as f:
            message = f.read()
        verifier = dkim.DKIM(message)
        headers = [v for (k, v) in verifier.headers if k.lower() == b'dkim-signature']
        results = []
        for idx in range(len(headers)):
            sig = dkim.parse_tag_value(headers[idx].replace(b'\r\n', b''))
            try:
                ok = dkim.DKIM(message).verify(idx=idx, dnsfunc=dnsfunc)
            except dkim.DKIMException as e:
                ok = False
                sig[b'error'] = str(e).encode()
            results.append(
                {
                    'd': sig.get(b'd', b'').decode(),
                    's': sig.get(b's', b'').decode(),
                    'a': sig.get(b'a', b'').decode(),
                    'ok': bool(ok),
                    'error': sig.get(b'error', b'').decode(),
                }
            )
        print(json.dumps({'file': path, 'ok': bool(results) and all(r['ok'] for r in results), 'signatures': results}))


if __name__ == '__main__':
    main()
