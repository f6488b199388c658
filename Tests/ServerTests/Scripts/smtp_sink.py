#!/usr/bin/env python3
"""An SMTP sink on loopback for the e-mail tests (aiosmtpd, which nobody here wrote).

Usage: smtp_sink.py PORT OUTDIR

Listens on 127.0.0.1:PORT until killed; each message it accepts is written to OUTDIR as NNNN.json holding the envelope's
sender and recipients and the message's bytes (base64), exactly as received after the DATA command.
"""
import base64
import json
import os
import sys
import threading
import time

try:
    from aiosmtpd.controller import Controller
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
        }
        path = os.path.join(outdir, f"{n:04d}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.replace(path + ".tmp", path)
        return "250 Message accepted for delivery"


controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
