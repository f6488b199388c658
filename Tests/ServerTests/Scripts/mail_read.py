#!/usr/bin/env python3
"""Reads the messages smtp_sink.py caught with Python's email package and prints them as JSON: recipients, the decoded
subject, the text body, the content type and the raw header lines.

Usage: mail_read.py OUTDIR
"""
import base64
import email
import email.policy
import json
import os
import sys

outdir = sys.argv[1]
messages = []
for name in sorted(os.listdir(outdir)):
    if not name.endswith(".json"):
        continue
    record = json.load(open(os.path.join(outdir, name), encoding="utf-8"))
    raw = base64.b64decode(record["data"])
    message = email.message_from_bytes(raw, policy=email.policy.default)
    messages.append({
        "envelopeTo": record["to"],
        "envelopeFrom": record["from"],
        "to": str(message["To"]),
        "subject": str(message["Subject"]),
        "body": message.get_content(),
        "contentType": message.get_content_type(),
        "charset": message.get_content_charset(),
        "messageID": str(message["Message-ID"] or ""),
    })
print(json.dumps(messages, ensure_ascii=False))
