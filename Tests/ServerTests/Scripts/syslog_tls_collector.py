#!/usr/bin/env python3
"""A syslog collector over TLS (RFC 5425) on loopback, for the audit forwarding tests; Python's ssl module does the TLS.

Usage: syslog_tls_collector.py PORT CERT KEY OUTFILE [CLIENT_CA]

Listens on 127.0.0.1:PORT until killed. Each connection is read as octet-counted frames (`MSG-LEN SP SYSLOG-MSG`,
RFC 5425 4.3 and RFC 6587 3.4.1); every frame is appended to OUTFILE as one JSON line: the declared length, the
bytes actually read for it, the RFC 5424 header fields, whether the message after the BOM is XML that ElementTree
parses as a DICOM AuditMessage, its EventOutcomeDescription and its EventID code, and the client certificate's subject
when one was presented. With CLIENT_CA the collector requires a client certificate signed by it (RFC 5425 5.3).
A frame that breaks the framing is written as {"error": ...} and the connection closed.
"""
import json
import socket
import ssl
import sys
import threading
import xml.etree.ElementTree as ET

port, cert, key, outfile = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
client_ca = sys.argv[5] if len(sys.argv) > 5 else None

context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.minimum_version = ssl.TLSVersion.TLSv1_2
context.load_cert_chain(cert, key)
if client_ca:
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(client_ca)

lock = threading.Lock()


def write(record):
    with lock:
        with open(outfile, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def parse(message_bytes, subject):
    record = {"length": len(message_bytes), "subject": subject}
    text = message_bytes.decode("utf-8")
    # <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]
    header, _, msg = text.partition(" - ")
    pri_version, timestamp, hostname, app, procid, msgid = header.split(" ", 5)
    pri = int(pri_version[1 : pri_version.index(">")])
    record.update(
        pri=pri, version=pri_version[pri_version.index(">") + 1 :], timestamp=timestamp, hostname=hostname,
        app=app, procid=procid, msgid=msgid, bom=msg.startswith("\ufeff"))
    try:
        root = ET.fromstring(msg.lstrip("\ufeff").encode("utf-8"))
        record["root"] = root.tag
        outcome = root.find("EventIdentification/EventOutcomeDescription")
        record["description"] = outcome.text if outcome is not None else None
        event_id = root.find("EventIdentification/EventID")
        record["event_id"] = event_id.get("csd-code") if event_id is not None else None
        record["xml"] = True
    except ET.ParseError as error:
        record["xml"] = False
        record["xml_error"] = str(error)
    return record


def serve(connection):
    try:
        tls = context.wrap_socket(connection, server_side=True)
    except (ssl.SSLError, OSError) as error:
        write({"handshake_error": str(error)})
        connection.close()
        return
    peer = tls.getpeercert()
    subject = None
    if peer:
        subject = ",".join("=".join(pair) for rdn in peer.get("subject", ()) for pair in rdn)
    buffer = b""
    try:
        while True:
            while b" " not in buffer:
                chunk = tls.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            length_text, _, rest = buffer.partition(b" ")
            if not length_text.isdigit() or length_text.startswith(b"0") or len(length_text) > 10:
                write({"error": "bad MSG-LEN %r" % length_text[:20]})
                return
            length = int(length_text)
            while len(rest) < length:
                chunk = tls.recv(65536)
                if not chunk:
                    write({"error": "connection closed inside a frame (%d of %d octets)" % (len(rest), length)})
                    return
                rest += chunk
            write(parse(rest[:length], subject))
            buffer = rest[length:]
    except (ssl.SSLError, OSError, ValueError) as error:
        write({"error": str(error)})
    finally:
        tls.close()


listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(16)
print("listening on", port, flush=True)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
