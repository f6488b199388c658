#!/usr/bin/env python3
"""Writes many small DICOM instances fast, to fill an archive's index for query benchmarks.

Usage: bench/make_study_index.py OUT_DIR [STUDIES] [INSTANCES_PER_STUDY]
Defaults: 10,000 studies of 10 instances (two series of five), 100,000 files of about 700 bytes, in subfolders of
1,000 files. The bytes are written directly (explicit VR little endian, an 8x8x16 image), not through pydicom, so
100,000 files take seconds. Everything is invented and deterministic (a fixed seed): patients with English and
Chinese (pinyin) names, study dates spread over 2015-2024, one modality per study (CT 40 %, MR 30 %, CR 20 %,
US 9 %, PT 1 %). Nothing is written when OUT_DIR already holds the files.
"""
import os
import random
import struct
import sys

SOP_CLASSES = {
    "CT": "1.2.840.10008.5.1.4.1.1.2",
    "MR": "1.2.840.10008.5.1.4.1.1.4",
    "CR": "1.2.840.10008.5.1.4.1.1.1",
    "US": "1.2.840.10008.5.1.4.1.1.6.1",
    "PT": "1.2.840.10008.5.1.4.1.1.128",
}
MODALITIES = ["CT"] * 40 + ["MR"] * 30 + ["CR"] * 20 + ["US"] * 9 + ["PT"]
FAMILY = [
    "Zhang", "Wang", "Li", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu", "Hu",
    "Guo", "He", "Lin", "Gao", "Luo", "Smith", "Jones", "Brown", "Taylor", "Wilson", "Evans", "Thomas", "Roberts",
    "Walker", "Wright", "Green", "Hall", "Wood", "Clarke", "Hughes", "Edwards", "Turner", "Baker", "Moore", "Young",
]
GIVEN = [
    "Wei", "Fang", "Na", "Min", "Jing", "Li", "Qiang", "Lei", "Jun", "Yang", "Yong", "Yan", "Jie", "Tao", "Ming",
    "Chao", "Xiu", "Hui", "Xia", "Ping", "Alice", "James", "Mary", "John", "Linda", "Robert", "Susan", "David",
    "Karen", "Peter", "Laura", "Simon", "Emma", "Oliver", "Grace", "Henry", "Chloe", "Oscar", "Ruby", "Arthur",
]
LONG_VR = {"OB", "OW", "OF", "SQ", "UT", "UN", "UC", "UR"}


def element(group, elem, vr, value):
    if isinstance(value, str):
        value = value.encode("utf-8")
        if len(value) % 2:
            value += b"\0" if vr == "UI" else b" "
    if vr in LONG_VR:
        return struct.pack("<HH2sHI", group, elem, vr.encode(), 0, len(value)) + value
    return struct.pack("<HH2sH", group, elem, vr.encode(), len(value)) + value


def us(n):
    return struct.pack("<H", n)


def part10(sop_class, sop_instance, body):
    meta = b"".join([
        element(0x0002, 0x0001, "OB", b"\0\1"),
        element(0x0002, 0x0002, "UI", sop_class),
        element(0x0002, 0x0003, "UI", sop_instance),
        element(0x0002, 0x0010, "UI", "1.2.840.10008.1.2.1"),
        element(0x0002, 0x0012, "UI", "1.2.826.0.1.3680043.10.1451.1"),
    ])
    return b"\0" * 128 + b"DICM" + element(0x0002, 0x0000, "UL", struct.pack("<I", len(meta))) + meta + body


def main():
    out = sys.argv[1]
    studies = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    per_study = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    total = studies * per_study
    marker = os.path.join(out, ".complete-%d-%d" % (studies, per_study))
    if os.path.exists(marker):
        return
    rng = random.Random(5)
    pixels = bytes(rng.randrange(256) for _ in range(128))
    patients = [
        ("%s^%s" % (rng.choice(FAMILY), rng.choice(GIVEN)), "PAT%06d" % p,
         "19%02d%02d%02d" % (rng.randrange(30, 100), rng.randrange(1, 13), rng.randrange(1, 29)), rng.choice("MF"))
        for p in range(max(studies * 2 // 5, 1))
    ]
    root = "2.25.%d" % (329800735698586629295641978511506172918 + studies)  # deterministic per size
    written = 0
    for s in range(studies):
        name, patient_id, birth, sex = rng.choice(patients)
        modality = rng.choice(MODALITIES)
        day = rng.randrange(3653)  # 2015-01-01 .. 2024-12-31, as a plain day count
        year, rest = 2015 + day // 366, day % 366
        date = "%04d%02d%02d" % (year, rest // 31 % 12 + 1, rest % 28 + 1)
        study_uid = "%s.%d" % (root, s + 1)
        study = b"".join([
            element(0x0008, 0x0020, "DA", date),
            element(0x0008, 0x0030, "TM", "%02d%02d00" % (rng.randrange(7, 19), rng.randrange(60))),
            element(0x0008, 0x0050, "SH", "ACC%07d" % s),
            element(0x0008, 0x0060, "CS", modality),
            element(0x0008, 0x0090, "PN", "Referrer^%s" % rng.choice(GIVEN)),
            element(0x0008, 0x1030, "LO", "%s study %d" % (modality, s % 17)),
            element(0x0010, 0x0010, "PN", name),
            element(0x0010, 0x0020, "LO", patient_id),
            element(0x0010, 0x0030, "DA", birth),
            element(0x0010, 0x0040, "CS", sex),
        ])
        for i in range(per_study):
            series = 1 + (i * 2 // per_study if per_study > 1 else 0)
            series_uid = "%s.%d" % (study_uid, series)
            sop_uid = "%s.%d" % (series_uid, i + 1)
            sop_class = SOP_CLASSES[modality]
            body = b"".join([
                element(0x0008, 0x0005, "CS", "ISO_IR 192"),
                element(0x0008, 0x0016, "UI", sop_class),
                element(0x0008, 0x0018, "UI", sop_uid),
                study,
                element(0x0020, 0x000D, "UI", study_uid),
                element(0x0020, 0x000E, "UI", series_uid),
                element(0x0020, 0x0010, "SH", "%d" % (s % 1000)),
                element(0x0020, 0x0011, "IS", str(series)),
                element(0x0020, 0x0013, "IS", str(i + 1)),
                element(0x0028, 0x0002, "US", us(1)),
                element(0x0028, 0x0004, "CS", "MONOCHROME2"),
                element(0x0028, 0x0010, "US", us(8)),
                element(0x0028, 0x0011, "US", us(8)),
                element(0x0028, 0x0100, "US", us(16)),
                element(0x0028, 0x0101, "US", us(12)),
                element(0x0028, 0x0102, "US", us(11)),
                element(0x0028, 0x0103, "US", us(0)),
                element(0x7FE0, 0x0010, "OW", pixels),
            ])
            folder = os.path.join(out, "%03d" % (written // 1000))
            if written % 1000 == 0:
                os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, "%07d.dcm" % written), "wb") as f:
                f.write(part10(sop_class, sop_uid, body))
            written += 1
    open(marker, "w").close()
    print("wrote %d instances in %d studies to %s" % (total, studies, out), file=sys.stderr)


if __name__ == "__main__":
    main()
