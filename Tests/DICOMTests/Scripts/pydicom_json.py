#!/usr/bin/env python3
"""Reference DICOM JSON from pydicom: for each file named on stdin, one line of JSON
{"path": ..., "json": <Dataset.to_json_dict()> } or {"path": ..., "error": "..."}.

Bulk data is inline base64 (pydicom's default without a bulk data handler). Files are read with
force=True so that files without a meta header are read as pydicom users would.
"""
import base64
import json
import sys
import warnings

import pydicom

warnings.simplefilter("ignore")


UNIT = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


def little_endian_bulk(ds, out):
    """DICOM JSON bulk values are little endian; pydicom copies a big-endian file's bytes as they are, so swap them
    here (an independent computation: byte reversal per value unit)."""
    if ds.original_encoding[1] is not False:
        return out
    def fix(obj):
        for key, attr in obj.items():
            unit = UNIT.get(attr.get("vr"))
            # Native Pixel Data of 32- or 64-bit samples is big endian per sample (pydicom's pixel_array reads it so).
            bits = (obj.get("00280100", {}).get("Value") or [0])[0]
            if key == "7FE00010" and attr.get("vr") == "OW" and bits > 16:
                unit = bits // 8
            if unit and "InlineBinary" in attr:
                raw = bytearray(base64.b64decode(attr["InlineBinary"]))
                for i in range(0, len(raw) - unit + 1, unit):
                    raw[i:i + unit] = raw[i:i + unit][::-1]
                attr["InlineBinary"] = base64.b64encode(bytes(raw)).decode()
            if attr.get("vr") == "SQ":
                for item in attr.get("Value", []):
                    fix(item)
    fix(out)
    return out


def main():
    stop = "--stop-before-pixels" in sys.argv
    for line in sys.stdin:
        path = line.rstrip("\n")
        if not path:
            continue
        try:
            ds = pydicom.dcmread(path, force=True, stop_before_pixels=stop)
            out = {"path": path, "json": little_endian_bulk(ds, ds.to_json_dict(bulk_data_threshold=1 << 62))}
        except Exception as exc:  # the reference records pydicom's failure; the test decides what it means
            out = {"path": path, "error": "%s: %s" % (type(exc).__name__, exc)}
        try:
            text = json.dumps(out, allow_nan=True, default=str)
        except Exception as exc:
            text = json.dumps({"path": path, "error": "unserialisable: %s" % exc})
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
