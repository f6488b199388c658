#!/usr/bin/env python3
"""Hostile inputs for Atrium's intake (docs/reliability.md), generated small on disk, and a runner that measures a
child's peak resident memory.

  intake_hostile.py make DIR     writes the inputs into DIR and prints a JSON manifest of what each one is
  intake_hostile.py run CMD...   runs CMD, prints JSON {status, maxrssKiB, stdout, stderr}; the peak comes from the
                                 kernel's rusage of the child (os.wait4), not from the child itself

The bombs are DEFLATE streams of zeros written with Python's zlib: one megabyte of zeros is compressed once, and after a
full flush (which resets the window) the same block stands for every further megabyte, so a 4 GiB entry costs 4 MiB
of disk and a second to write. Zip structures are written by hand so that headers can lie; Python's zipfile reads
back the honest ones (the manifest says so), and pydicom writes the valid DICOM object.
"""
import gzip
import io
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib

MIB = 1 << 20
GIB = 1 << 30


def zero_blocks(total, prefix=b"", level=9):
    """Yields a raw DEFLATE stream of `prefix` then `total` zero bytes, and returns nothing; total is a multiple of 1 MiB."""
    assert total % MIB == 0 and total >= 3 * MIB
    chunk = bytes(MIB)
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    yield c.compress(prefix + chunk) + c.flush(zlib.Z_FULL_FLUSH)
    second = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    third = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    if second != third:
        raise SystemExit("zlib's output after a full flush is not repeatable here")
    yield second
    for _ in range(total // MIB - 3):
        yield second
    yield c.compress(chunk) + c.flush(zlib.Z_FINISH)


def zeros_crc(total):
    crc = 0
    chunk = bytes(MIB)
    for _ in range(total // MIB):
        crc = zlib.crc32(chunk, crc)
    return crc


class ZipWriter:
    """A zip file written entry by entry; sizes in headers may be given (to lie) or are the true ones."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.central = []

    def add(self, name, blocks, size, crc, method=8, declared=None, offset=None):
        name = name.encode()
        start = self.f.tell() if offset is None else offset
        declared = size if declared is None else declared
        zip64 = declared >= 0xFFFFFFFF
        if offset is None:
            header_at = self.f.tell()
            extra = struct.pack("<HHQQ", 1, 16, declared, 0) if zip64 else b""
            self.f.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if zip64 else 20, 0, method, 0, 0x21, crc,
                                     0xFFFFFFFF if zip64 else 0, 0xFFFFFFFF if zip64 else declared, len(name), len(extra)))
            self.f.write(name + extra)
            data_at = self.f.tell()
            for block in blocks:
                self.f.write(block)
            compressed = self.f.tell() - data_at
            if zip64:
                end = self.f.tell()
                self.f.seek(header_at + 30 + len(name) + 4)
                self.f.write(struct.pack("<QQ", declared, compressed))
                self.f.seek(end)
        else:
            compressed = blocks
        self.central.append((name, method, crc, compressed, declared, start))
        return compressed

    def close(self):
        cd_at = self.f.tell()
        for name, method, crc, compressed, declared, start in self.central:
            fields = []
            size_field, comp_field, off_field = declared, compressed, start
            if declared >= 0xFFFFFFFF:
                fields.append(declared); size_field = 0xFFFFFFFF
            if compressed >= 0xFFFFFFFF:
                fields.append(compressed); comp_field = 0xFFFFFFFF
            if start >= 0xFFFFFFFF:
                fields.append(start); off_field = 0xFFFFFFFF
            extra = struct.pack("<HH", 1, 8 * len(fields)) + b"".join(struct.pack("<Q", v) for v in fields) if fields else b""
            self.f.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 45 if fields else 20, 0, method, 0, 0x21, crc,
                                     comp_field, size_field, len(name), len(extra), 0, 0, 0, 0o100644 << 16, off_field))
            self.f.write(name + extra)
        cd_size = self.f.tell() - cd_at
        count = len(self.central)
        zip64_at = self.f.tell()
        self.f.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, cd_size, cd_at))
        self.f.write(struct.pack("<IIQI", 0x07064B50, 0, zip64_at, 1))
        self.f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(count, 0xFFFF), min(count, 0xFFFF), cd_size,
                                 min(cd_at, 0xFFFFFFFF), 0))
        self.f.close()


def one_entry_zip(path, name, total, declared=None):
    w = ZipWriter(path)
    crc = zeros_crc(total) if declared is None else 0
    w.add(name, zero_blocks(total), total, crc, declared=declared)
    w.close()


def part10_deflated(path, inflated_zeros):
    """A Part 10 file in the deflated transfer syntax whose dataset inflates to an OB Pixel Data of `inflated_zeros` zeros."""
    def element(group, elem, vr, value):
        if vr in (b"OB", b"UN"):
            return struct.pack("<HH2sHI", group, elem, vr, 0, len(value)) + value
        return struct.pack("<HH2sH", group, elem, vr, len(value)) + value
    def ui(text):
        raw = text.encode()
        return raw + (b"\0" if len(raw) % 2 else b"")
    sop_class, sop_instance = "1.2.840.10008.5.1.4.1.1.7", "1.2.826.0.1.3680043.8.498.99001"
    meta_body = (element(2, 1, b"OB", b"\0\1") + element(2, 2, b"UI", ui(sop_class)) + element(2, 3, b"UI", ui(sop_instance))
                 + element(2, 0x10, b"UI", ui("1.2.840.10008.1.2.1.99")))
    meta = element(2, 0, b"UL", struct.pack("<I", len(meta_body))) + meta_body
    dataset = (element(8, 0x16, b"UI", ui(sop_class)) + element(8, 0x18, b"UI", ui(sop_instance))
               + element(0x20, 0x0D, b"UI", ui("1.2.826.0.1.3680043.8.498.99002"))
               + element(0x20, 0x0E, b"UI", ui("1.2.826.0.1.3680043.8.498.99003"))
               + struct.pack("<HH2sHI", 0x7FE0, 0x10, b"OB", 0, min(inflated_zeros, 0xFFFFFFFE)))
    with open(path, "wb") as f:
        f.write(bytes(128) + b"DICM" + meta)
        for block in zero_blocks(inflated_zeros, prefix=dataset):
            f.write(block)


def gzip_zeros(path, total):
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
        for block in zero_blocks(total):
            f.write(block)
        f.write(struct.pack("<II", zeros_crc(total), total & 0xFFFFFFFF))


def valid_study(directory):
    """A valid CT object (pydicom's CT_small with fresh UIDs) and a zip holding it beside a text file."""
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import generate_uid
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = generate_uid(), generate_uid(), generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    path = os.path.join(directory, "valid.dcm")
    ds.save_as(path)
    ds_study, ds_instance = ds.StudyInstanceUID, ds.SOPInstanceUID
    zpath = os.path.join(directory, "valid.zip")
    note = b"this is a note, not DICOM\n" * 10
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(path, "study/ct.dcm")
        z.writestr("study/readme.txt", note)
    with zipfile.ZipFile(zpath) as z:
        sizes = {i.filename: i.file_size for i in z.infolist()}
    # Another object of its own study, as a STOW-RS body compressed with gzip (Content-Encoding: gzip).
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = generate_uid(), generate_uid(), generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    part = io.BytesIO()
    ds.save_as(part)
    body = b"--XYZ\r\nContent-Type: application/dicom\r\n\r\n" + part.getvalue() + b"\r\n--XYZ--\r\n"
    stow = os.path.join(directory, "stow-body.gz")
    with gzip.open(stow, "wb") as f:
        f.write(body)
    return {"file": path, "zip": zpath, "studyInstanceUID": str(ds_study), "sopInstanceUID": str(ds_instance),
            "zipEntrySizes": sizes, "stowBody": stow, "stowStudyInstanceUID": str(ds.StudyInstanceUID)}


def make(directory):
    os.makedirs(directory, exist_ok=True)
    p = lambda name: os.path.join(directory, name)
    manifest = {"valid": valid_study(directory)}

    one_entry_zip(p("one-huge.zip"), "bomb.bin", 4 * GIB)
    one_entry_zip(p("ratio.zip"), "zeros.bin", 1 * GIB)
    one_entry_zip(p("lying.zip"), "lie.bin", 4 * GIB, declared=MIB)

    w = ZipWriter(p("many.zip"))
    crc15 = zeros_crc(15 * MIB)
    for i in range(200):
        w.add(f"many/zeros-{i:03}.bin", zero_blocks(15 * MIB), 15 * MIB, crc15)
    w.close()

    # Every entry of the directory points at the same local header (the overlapping-file bomb's trick).
    w = ZipWriter(p("overlap.zip"))
    compressed = w.add("kernel.bin", zero_blocks(15 * MIB), 15 * MIB, crc15)
    for i in range(100):
        w.add(f"copy-{i:03}.bin", compressed, 15 * MIB, crc15, offset=0)
    w.close()

    # A zip inside a zip: the inner one-entry 4 GiB bomb, stored.
    inner = open(p("one-huge.zip"), "rb").read()
    with zipfile.ZipFile(p("nested.zip"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("inner/one-huge.zip", inner)

    part10_deflated(p("deflated-ts.dcm"), 4 * GIB - 16 * MIB)
    with zipfile.ZipFile(p("deflated-ts.zip"), "w", zipfile.ZIP_STORED) as z:
        z.write(p("deflated-ts.dcm"), "scan/deflated-ts.dcm")
    gzip_zeros(p("body.gz"), 4 * GIB)

    # pydicom's DICOMDIR medium with its first referenced file replaced by the deflated bomb.
    import shutil
    from pydicom import dcmread
    from pydicom.data import get_testdata_file
    source = get_testdata_file("DICOMDIR")
    medium = p("medium")
    records = dcmread(source).DirectoryRecordSequence
    referenced = sorted({"/".join(r.ReferencedFileID) for r in records if "ReferencedFileID" in r})
    os.makedirs(medium, exist_ok=True)
    shutil.copy(source, os.path.join(medium, "DICOMDIR"))
    for index, name in enumerate(referenced):
        target = os.path.join(medium, *name.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy(p("deflated-ts.dcm") if index == 0 else os.path.join(os.path.dirname(source), *name.split("/")), target)
    manifest["dicomdir"] = {"path": os.path.join(medium, "DICOMDIR"), "referencedFiles": len(referenced),
                            "bombFile": os.path.join(medium, *referenced[0].split("/"))}

    # What Python's zipfile reads from the honest archives (an independent check of the structures written above).
    honest = {}
    for name in ["one-huge.zip", "ratio.zip", "many.zip", "nested.zip", "deflated-ts.zip"]:
        with zipfile.ZipFile(p(name)) as z:
            infos = z.infolist()
            honest[name] = {"count": len(infos), "first": infos[0].filename, "firstSize": infos[0].file_size,
                            "totalSize": sum(i.file_size for i in infos)}
    manifest["entries"] = honest
    manifest["paths"] = {name: p(name) for name in os.listdir(directory) if os.path.isfile(p(name))}
    manifest["diskBytes"] = sum(os.path.getsize(p(n)) for n in os.listdir(directory) if os.path.isfile(p(n)))
    print(json.dumps(manifest))


def run(command):
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = b"", b""
    # Read both pipes to the end, then reap the child with wait4 for its rusage.
    out, err = child.stdout.read(), child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    print(json.dumps({"status": child.returncode, "maxrssKiB": usage.ru_maxrss,
                      "stdout": out.decode(errors="replace"), "stderr": err.decode(errors="replace")}))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "make":
        make(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "run":
        run(sys.argv[2:])
    else:
        raise SystemExit(__doc__)
