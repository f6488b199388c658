#!/usr/bin/env python3
"""Person names in three Chinese-capable character sets, written and read back by pydicom, with how people read them.

Usage: person_name_display.py OUT_DIR

Writes one Part 10 file per character set (GB18030 and UTF-8 by pydicom; ISO 2022 IR 58 byte by byte, since pydicom
writes GB 2312 without the escape sequence PS3.5 Annex K requires) holding Person Name values with alphabetic,
ideographic and phonetic groups, checks the bytes really use that encoding, reads each file back with pydicom and prints a JSON list of {path, keyword, chinese, english}: the name as a Chinese and as an English
reader read it, computed here from pydicom's PersonName components by the rule stated in
PersonName.displayed(in:) (an ideographic or phonetic group runs its components together, in their DICOM order, unless
they hold Latin letters; an alphabetic group reads "Prefix Family, Given Middle, Suffix"; Chinese readers take the ideographic group,
else the phonetic, else the alphabetic; English readers the alphabetic, else the ideographic, else the phonetic).
"""
import json
import os
import re
import struct
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ElementTree

warnings.simplefilter("ignore")

import pydicom  # noqa: E402
from pydicom.dataset import Dataset, FileMetaDataset  # noqa: E402
from pydicom.uid import ExplicitVRLittleEndian, generate_uid  # noqa: E402

FILES = [
    ("gb18030", "GB18030", [
        ("PatientName", "Wang^XiaoDong=王^小东"),
        ("ReferringPhysicianName", "=陈^静"),
        ("PerformingPhysicianName", "Ouyang^Xiu^^Dr.=欧阳^修^^医生"),
    ], "王".encode("gb18030")),
    ("ir58", ["", "ISO 2022 IR 58"], [
        ("PatientName", "Zhang^Wei=张^伟"),
        ("ReferringPhysicianName", "Li^Na^^Prof.=李^娜"),
        ("PerformingPhysicianName", "Huang^Rong"),
    ], b"\x1b$)A\xd5\xc5"),
    ("utf8", "ISO_IR 192", [
        ("PatientName", "Smith^John^Paul^^Jr."),
        ("ReferringPhysicianName", "Yamada^Tarou=山田^太郎=やまだ^たろう"),
        ("PerformingPhysicianName", "Kim^Minjun==김^민준"),
    ], "김".encode("utf-8")),
]


def components(group):
    parts = group.split("^") + [""] * 5
    family, given, middle, prefix, suffix = (p.strip() for p in parts[:5])
    return family, given, middle, prefix, suffix


def alphabetic(group):
    family, given, middle, prefix, suffix = components(group)
    rest = " ".join(x for x in (given, middle) if x)
    name = ", ".join(x for x in (family, rest) if x)
    if prefix:
        name = f"{prefix} {name}" if name else prefix
    if suffix:
        name = f"{name}, {suffix}" if name else suffix
    return name


def ideographic(group):
    family, given, middle, prefix, suffix = components(group)
    parts = [x for x in (family, given, middle, prefix, suffix) if x]
    latin = any(re.search("[A-Za-z]", p) for p in parts)
    return (" " if latin else "").join(parts)


def shown(name, language):
    groups = list(name.components) + ["", ""]
    alpha, ideo, phon = groups[0], groups[1], groups[2]
    order = [(ideo, ideographic), (phon, ideographic), (alpha, alphabetic)]
    if language == "en":
        order = [(alpha, alphabetic), (ideo, ideographic), (phon, ideographic)]
    for group, rule in order:
        text = rule(group)
        if text:
            return text
    return ""


TAGS = {"PatientName": (0x0010, 0x0010), "ReferringPhysicianName": (0x0008, 0x0090), "PerformingPhysicianName": (0x0008, 0x1050)}
ESCAPES = re.compile("\x1b(\\$\\)A|\\(B)")


def element(group, number, vr, value):
    if len(value) % 2:
        value += b"\0" if vr in ("UI", "OB") else b" "
    header = struct.pack("<HH", group, number) + vr.encode()
    if vr == "OB":
        return header + b"\0\0" + struct.pack("<I", len(value)) + value
    return header + struct.pack("<H", len(value)) + value


def iso2022_ir58(value):
    """A PN value in ISO 2022 IR 58 (PS3.5 K.2): ASCII, and each run of Chinese characters after ESC $ ) A, the
    designation starting again after every component and group delimiter."""
    out = b""
    for piece in re.split("([=^])", value):
        if piece and not piece.isascii():
            out += b"\x1b$)A" + piece.encode("gb2312")
        else:
            out += piece.encode("ascii")
    return out


def write_ir58(path, terms, names):
    uid = generate_uid().encode()
    meta = b"".join([
        element(0x0002, 0x0001, "OB", b"\0\1"), element(0x0002, 0x0002, "UI", b"1.2.840.10008.5.1.4.1.1.7"),
        element(0x0002, 0x0003, "UI", uid), element(0x0002, 0x0010, "UI", b"1.2.840.10008.1.2.1"),
    ])
    body = [((0x0008, 0x0005), "CS", "\\".join(terms).encode()), ((0x0008, 0x0016), "UI", b"1.2.840.10008.5.1.4.1.1.7"),
            ((0x0008, 0x0018), "UI", uid)]
    body += [(TAGS[keyword], "PN", iso2022_ir58(value)) for keyword, value in names]
    data = b"".join(element(g, n, vr, v) for (g, n), vr, v in sorted(body, key=lambda e: e[0]))
    with open(path, "wb") as f:
        f.write(b"\0" * 128 + b"DICM" + element(0x0002, 0x0000, "UL", struct.pack("<I", len(meta))) + meta + data)


def dcmtk_names(path):
    """The PN values dcmtk's dcm2xml +U8 reads (it handles the ISO 2022 escape sequences itself)."""
    result = subprocess.run(["dcm2xml", "+U8", path], capture_output=True)
    if result.returncode != 0:
        raise SystemExit(f"dcm2xml failed on {path} (apt-get install dcmtk): {result.stderr.decode()}")
    return {node.get("name"): (node.text or "").rstrip() for node in ElementTree.fromstring(result.stdout).iter("element")
            if node.get("vr") == "PN"}


out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
cases = []
for label, charset, names, marker in FILES:
    ds = Dataset()
    ds.SpecificCharacterSet = charset
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = generate_uid()
    for keyword, value in names:
        setattr(ds, keyword, value)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path = os.path.join(out_dir, f"names-{label}.dcm")
    if label == "ir58":
        write_ir58(path, charset, names)
    else:
        ds.save_as(path, enforce_file_format=True)
    raw = open(path, "rb").read()
    if marker not in raw:
        raise SystemExit(f"{path}: pydicom did not write the names in {charset}")
    back = pydicom.dcmread(path)
    for keyword, _ in names:
        name = back[keyword].value
        if label == "ir58":
            # pydicom's GB 2312 codec leaves the escape sequences in the text: they designate the character set and
            # are no characters of the name; without them pydicom's value is what dcmtk reads.
            name = pydicom.valuerep.PersonName(ESCAPES.sub("", str(name)))
            dcmtk = dcmtk_names(path).get(keyword)
            if dcmtk != str(name):
                raise SystemExit(f"{keyword}: pydicom reads {str(name)!r}, dcmtk {dcmtk!r}")
        cases.append({"path": path, "keyword": keyword, "chinese": shown(name, "zh"), "english": shown(name, "en")})
print(json.dumps(cases, ensure_ascii=False))
