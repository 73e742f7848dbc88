#!/usr/bin/python3
"""aiosmtpd_server.py plus what the smtpc CLI tests need on top.

Takes every option of aiosmtpd_server.py (that server, reused as it
is), and also:
  --reject ADDR=REPLY      answer RCPT TO:<ADDR> with REPLY, e.g.
                           --reject 'nobody@example.com=550 5.1.1 no such user'
                           (repeatable; ADDR compared case-insensitively)
  --reject-once ADDR=REPLY the same, the first time ADDR is given only
                           (e.g. a 421 that ends one session)
  --oauth USER:TOKEN       offer AUTH XOAUTH2 and OAUTHBEARER (RFC 7628) and
                           accept TOKEN for USER (repeatable).  A wrong token
                           gets the RFC's error challenge (334 + base64 JSON),
                           then 535 after the client's dummy response.
Started by start_cli_aiosmtpd in tests/servers/lib.sh.
"""

import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import aiosmtpd_server  # noqa: E402
from aiosmtpd.smtp import MISSING, SMTP, AuthResult  # noqa: E402

REJECT = {}
REJECT_ONCE = {}
TOKENS = {}          # user -> token

ERROR_CHALLENGE = json.dumps({"status": "invalid_token", "schemes": "bearer",
                              "scope": "https://mail.example/"}).encode()


class RejectingHandler(aiosmtpd_server.Handler):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = REJECT_ONCE.pop(address.lower(), None) or REJECT.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"


class OAuthSMTP(SMTP):
    def __init__(self, *args, **kwargs):
        if not TOKENS:
            kwargs["auth_exclude_mechanism"] = list(
                kwargs.get("auth_exclude_mechanism") or []) + ["XOAUTH2", "OAUTHBEARER"]
        super().__init__(*args, **kwargs)

    async def _oauth_initial(self, args):
        if len(args) == 1:
            blob = await self.challenge_auth("")
            return None if blob is MISSING else blob
        try:
            return base64.b64decode(args[1].encode(), validate=True)
        except Exception:
            return None

    async def _oauth_finish(self, mech, user, token):
        if user is not None and TOKENS.get(user) == token:
            return AuthResult(success=True, auth_data={"login": user, "mechanism": mech})
        # RFC 7628 3.2.2 / XOAUTH2: the error goes in a challenge, the client
        # answers with a dummy response, then the server fails the exchange.
        await self.challenge_auth(ERROR_CHALLENGE)
        return AuthResult(success=False, handled=False)

    async def auth_XOAUTH2(self, _, args):
        blob = await self._oauth_initial(args)
        if blob is None:
            await self.push("501 5.5.2 Can't decode base64")
            return AuthResult(success=False, handled=True)
        user = token = None
        for part in blob.split(b"\x01"):
            if part.startswith(b"user="):
                user = part[5:].decode("utf-8", "replace")
            elif part.startswith(b"auth=Bearer "):
                token = part[12:].decode("utf-8", "replace")
        return await self._oauth_finish("XOAUTH2", user, token)

    async def auth_OAUTHBEARER(self, _, args):
        blob = await self._oauth_initial(args)
        if blob is None:
            await self.push("501 5.5.2 Can't decode base64")
            return AuthResult(success=False, handled=True)
        parts = blob.split(b"\x01")
        user = token = None
        # gs2 header: "n,a=user," (a= optional)
        for field in parts[0].split(b","):
            if field.startswith(b"a="):
                user = field[2:].decode("utf-8", "replace")
        for part in parts[1:]:
            if part.startswith(b"auth=Bearer "):
                token = part[12:].decode("utf-8", "replace")
        if user is None and token is not None:
            for u, t in TOKENS.items():
                if t == token:
                    user = u
        return await self._oauth_finish("OAUTHBEARER", user, token)


def main(argv):
    rest = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--reject", "--reject-once", "--oauth") and i + 1 < len(argv):
            opt, spec = a, argv[i + 1]
            i += 2
        else:
            rest.append(a)
            i += 1
            continue
        if opt in ("--reject", "--reject-once"):
            addr, sep, reply = spec.partition("=")
            if not sep or len(reply) < 4 or not reply[:3].isdigit():
                sys.exit(opt + " wants ADDR=REPLY, e.g. a@b=550 5.1.1 no")
            (REJECT if opt == "--reject" else REJECT_ONCE)[addr.lower()] = reply
        else:
            user, sep, token = spec.partition(":")
            if not sep:
                sys.exit("--oauth wants USER:TOKEN")
            TOKENS[user] = token
    if TOKENS and "--auth" not in rest:
        # aiosmtpd_server.py offers AUTH only when it has users.
        rest += ["--auth", "oauth-only-user:" + os.urandom(8).hex()]
    aiosmtpd_server.Handler = RejectingHandler
    aiosmtpd_server.SMTP = OAuthSMTP
    aiosmtpd_server.main(rest)


if __name__ == "__main__":
    main(sys.argv[1:])
