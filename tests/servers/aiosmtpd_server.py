#!/usr/bin/python3
"""Loopback SMTP test server for smtpc's integration tests, built on aiosmtpd.

Run it with /usr/bin/python3 (Debian's python3-aiosmtpd).  It is normally
started by start_aiosmtpd in tests/servers/lib.sh; run it by hand with --help.

Every accepted message N (1, 2, 3, ... across all connections) is stored as
  DIR/N.json  envelope: mail_from, rcpt_tos, mail_options, rcpt_options,
              login (the authenticated user or null), auth_mechanism, tls,
              smtp_utf8, helo, peer
  DIR/N.eml   exactly the content bytes the server received after DATA,
              dot-unstuffed (aiosmtpd's envelope.original_content): CRLF line
              ends kept, the final CRLF.CRLF removed.
N.json is written before N.eml and each file appears atomically (rename), so
once N.eml exists both files are complete.

The listening port is written to --port-file once the socket is bound
(--port 0, the default, lets the kernel choose a free port: no race).
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

LOOPBACK = ("127.0.0.1", "::1")

log = logging.getLogger("smtpc.aiosmtpd_server")


def atomic_write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


class Handler:
    def __init__(self, outdir, users, advertise_auth):
        self.outdir = outdir
        self.users = users                  # {login(bytes): password(bytes)}
        self.advertise_auth = advertise_auth
        self.count = 0

    # 5-argument form: gets the list of EHLO lines and returns the new one.
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname        # the hook must do this itself
        if not self.advertise_auth:
            responses = [r for r in responses if not r[4:].startswith("AUTH")]
        return responses

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        expected = self.users.get(auth_data.login)
        if expected is not None and expected == auth_data.password:
            return AuthResult(success=True, auth_data={
                "login": auth_data.login.decode("utf-8", "replace"),
                "mechanism": mechanism})
        return AuthResult(success=False, handled=False)

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        n = self.count
        auth = session.auth_data if isinstance(session.auth_data, dict) else {}
        transport_ssl = None
        if server.transport is not None:
            transport_ssl = server.transport.get_extra_info("ssl_object")
        meta = {
            "seq": n,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "rcpt_options": [list(o) for o in envelope.rcpt_options],
            "login": auth.get("login") if session.authenticated else None,
            "auth_mechanism": auth.get("mechanism") if session.authenticated else None,
            "tls": bool(session.ssl) or transport_ssl is not None,
            "smtp_utf8": bool(envelope.smtp_utf8),
            "helo": session.host_name,
            "peer": list(session.peer) if session.peer else None,
            "size": len(envelope.original_content or b""),
        }
        base = os.path.join(self.outdir, str(n))
        atomic_write(base + ".json",
                     (json.dumps(meta, indent=1, sort_keys=True) + "\n").encode())
        atomic_write(base + ".eml", envelope.original_content or b"")
        log.info("stored message %d from %r to %r (%d bytes)", n,
                 envelope.mail_from, envelope.rcpt_tos, meta["size"])
        return "250 2.0.0 OK queued as %d" % n


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", required=True, help="where N.eml/N.json go")
    p.add_argument("--host", default="127.0.0.1", choices=LOOPBACK)
    p.add_argument("--port", type=int, default=0, help="0 = kernel picks")
    p.add_argument("--port-file", help="write the bound port here when ready")
    p.add_argument("--auth", action="append", default=[], metavar="USER:PASS",
                   help="accept AUTH PLAIN/LOGIN with this user (repeatable)")
    p.add_argument("--auth-require-tls", action="store_true",
                   help="offer/accept AUTH only after STARTTLS")
    p.add_argument("--auth-required", action="store_true",
                   help="refuse MAIL until authenticated (530)")
    p.add_argument("--tls-cert", help="PEM certificate (enables STARTTLS)")
    p.add_argument("--tls-key", help="PEM private key")
    p.add_argument("--implicit-tls", action="store_true",
                   help="TLS from the first byte (port 465 style), no STARTTLS")
    p.add_argument("--require-starttls", action="store_true",
                   help="refuse commands other than EHLO/STARTTLS/QUIT before TLS")
    p.add_argument("--smtputf8", action="store_true", help="advertise SMTPUTF8")
    p.add_argument("--size", type=int, default=33554432,
                   help="data size limit advertised as SIZE (0 = none)")
    p.add_argument("--hostname", default="aiosmtpd.smtpc.test")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    if (a.tls_cert is None) != (a.tls_key is None):
        p.error("--tls-cert and --tls-key go together")
    if (a.implicit_tls or a.require_starttls) and not a.tls_cert:
        p.error("--implicit-tls/--require-starttls need --tls-cert/--tls-key")
    if a.auth_require_tls and not a.tls_cert:
        p.error("--auth-require-tls needs --tls-cert/--tls-key")
    return a


def main(argv):
    a = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if a.verbose else logging.INFO, stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # aiosmtpd 1.4 itself touches its deprecated Session.login_data on every
    # AUTH and warns about it: noise, not a problem of the client under test.
    logging.getLogger("mail.log").addFilter(
        lambda rec: "login_data is deprecated" not in rec.getMessage())
    os.makedirs(a.dir, exist_ok=True)

    users = {}
    for spec in a.auth:
        user, sep, password = spec.partition(":")
        if not sep:
            sys.exit("--auth wants USER:PASS")
        users[user.encode()] = password.encode()

    ctx = None
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)

    handler = Handler(a.dir, users, advertise_auth=bool(users))

    def factory():
        return SMTP(
            handler,
            hostname=a.hostname,
            data_size_limit=a.size or None,
            enable_SMTPUTF8=a.smtputf8,
            decode_data=False,
            # With implicit TLS the socket is already encrypted: aiosmtpd only
            # knows about STARTTLS, so give it no context and no TLS rule.
            tls_context=None if a.implicit_tls else ctx,
            require_starttls=a.require_starttls and not a.implicit_tls,
            auth_require_tls=a.auth_require_tls and not a.implicit_tls,
            auth_required=a.auth_required,
            authenticator=handler.authenticate,
            timeout=a.timeout,
        )

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        factory, host=a.host, port=a.port,
        ssl=ctx if a.implicit_tls else None, reuse_address=True))
    port = server.sockets[0].getsockname()[1]
    log.info("listening on %s port %d (tls=%s implicit=%s auth=%s smtputf8=%s)",
             a.host, port, bool(ctx), a.implicit_tls, sorted(u.decode() for u in users),
             a.smtputf8)
    if a.port_file:
        atomic_write(a.port_file, b"%d\n" % port)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()
    log.info("stopped")


if __name__ == "__main__":
    main(sys.argv[1:])
