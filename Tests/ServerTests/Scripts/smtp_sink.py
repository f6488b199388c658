#!/usr/bin/env python3
"""An SMTP sink on loopback for the e-mail tests (aiosmtpd, which nobody here wrote).

Usage: smtp_sink.py PORT OUTDIR [CERT KEY USER PASSWORD]

Listens on 127.0.0.1:PORT until killed; each message it accepts is written to OUTDIR as NNNN.json holding the envelope's
sender and recipients, the message's bytes (base64) exactly as received after the DATA command, whether the session
was under TLS and who authenticated. With CERT and KEY (PEM) it offers STARTTLS and requires it before MAIL; with USER
and PASSWORD it offers AUTH PLAIN and LOGIN (after STARTTLS only) and requires a successful AUTH before MAIL.
"""
import base64
import json
import os
import ssl
import sys
import threading
import time

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
except ImportError:
    print("aiosmtpd is missing: pip install aiosmtpd (scripts/install-deps)", flush=True)
    sys.exit(2)

port, outdir = int(sys.argv[1]), sys.argv[2]
os.makedirs(outdir, exist_ok=True)
lock = threading.Lock()
count = [0]


class Sink:
    async def handle_DATA(self, server, session, envelope):
        with lock:
            count[0] += 1
            n = count[0]
        record = {
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "data": base64.b64encode(envelope.original_content or envelope.content).decode(),
            "tls": session.ssl is not None,
            "auth": getattr(session, "atrium_login", None),
            "mechanism": getattr(session, "atrium_mechanism", None),
        }
        path = os.path.join(outdir, f"{n:04d}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.replace(path + ".tmp", path)
        return "250 Message accepted for delivery"


options = {}
if len(sys.argv) >= 7:
    cert, key, user, password = sys.argv[3:7]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == user.encode() and auth_data.password == password.encode()
        if ok:
            session.atrium_login = auth_data.login.decode()
            session.atrium_mechanism = mechanism
        return AuthResult(success=ok, handled=False)

    options = {"tls_context": context, "require_starttls": True, "authenticator": authenticator, "auth_required": True,
               "auth_require_tls": True}
controller = Controller(Sink(), hostname="127.0.0.1", port=port, **options)
controller.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
