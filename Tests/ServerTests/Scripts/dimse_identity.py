#!/usr/bin/env python3
"""Associates with a DICOM acceptor through pynetdicom, optionally presenting a user identity (PS3.7 D.3.3.7), and
C-STOREs one file. Usage: dimse_identity.py HOST PORT CALLING_AET FILE [USERNAME PASSCODE [TYPE]]
Prints one JSON object: {"accepted": bool, "status": C-STORE status or null, "reason": rejection reason or null}."""
import json
import sys

from pydicom import dcmread
from pynetdicom import AE, build_context
from pynetdicom.pdu_primitives import UserIdentityNegotiation

host, port, calling, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
dataset = dcmread(path)
ae = AE(ae_title=calling)
ae.acse_timeout = 30
ae.network_timeout = 30
ae.requested_contexts = [build_context(dataset.SOPClassUID)]
extended = []
if len(sys.argv) >= 7:
    identity = UserIdentityNegotiation()
    identity.user_identity_type = int(sys.argv[7]) if len(sys.argv) >= 8 else 2
    identity.primary_field = sys.argv[5].encode()
    if identity.user_identity_type == 2:
        identity.secondary_field = sys.argv[6].encode()
    identity.positive_response_requested = False
    extended.append(identity)
association = ae.associate(host, port, ae_title="ATRIUM", ext_neg=extended)
result = {"accepted": association.is_established, "status": None, "reason": None}
if association.is_established:
    status = association.send_c_store(dataset)
    result["status"] = getattr(status, "Status", None)
    association.release()
elif association.is_rejected:
    result["reason"] = "rejected"
print(json.dumps(result))
