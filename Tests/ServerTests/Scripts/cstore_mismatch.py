"""Sends C-STORE requests whose data sets do not carry the command's UIDs, one that does, then asks for an
association with an unknown application context name; prints the outcomes as JSON.

usage: cstore_mismatch.py HOST PORT CALLED_AE CT_FILE WORKDIR UID_ROOT

The command's Affected SOP Class/Instance UIDs are taken from the file meta information (pynetdicom's chunked
sending), while the data set is sent as it is in the file, so the two can differ.
"""
import json
import os
import sys

import pynetdicom.acse
from pydicom import dcmread
from pydicom.uid import CTImageStorage, MRImageStorage, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, _config

host, port, called, source, work, root = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
_config.STORE_SEND_CHUNKED_DATASET = True


def variant(name, meta_class, meta_instance, data_set_instance):
    ds = dcmread(source)
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = data_set_instance
    ds.file_meta.MediaStorageSOPClassUID = meta_class
    ds.file_meta.MediaStorageSOPInstanceUID = meta_instance
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path = os.path.join(work, name)
    ds.save_as(path, enforce_file_format=False, implicit_vr=False, little_endian=True)
    return path


cases = [
    # the command announces another SOP Instance UID than the data set's
    variant("instance.dcm", CTImageStorage, root + ".1", root + ".2"),
    # the command announces MR Image Storage, the data set is a CT image
    variant("class.dcm", MRImageStorage, root + ".3", root + ".3"),
    # command and data set agree
    variant("match.dcm", CTImageStorage, root + ".4", root + ".4"),
]

ae = AE(ae_title="MISMATCH")
for sop_class in (CTImageStorage, MRImageStorage):
    ae.add_requested_context(sop_class, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
assoc = ae.associate(host, port, ae_title=called)
if not assoc.is_established:
    print(json.dumps({"error": "association not established"}))
    sys.exit(1)
statuses = []
for path in cases:
    status = assoc.send_c_store(path)
    statuses.append(int(status.Status) if "Status" in status else None)
assoc.release()

pynetdicom.acse.APPLICATION_CONTEXT_NAME = "1.2.826.0.1.3680043.10.1191.999"
refused = ae.associate(host, port, ae_title=called)
rejected = refused.is_rejected
if refused.is_established:
    refused.release()
print(json.dumps({"statuses": statuses, "rejected": rejected}))
