#!/usr/bin/env python3
"""Zip archives and DEFLATE streams written by Python's zipfile, zlib and gzip, for the zip intake's tests.

  zip_oracle.py DIR   writes archives into DIR and prints JSON: for each archive, each regular file's name and size as
                      Python's zipfile reads them, with its content written to a file of its own (contentPath); and for
                      each stream, its format and a file holding what it inflates to.
"""
import gzip, io, itertools, json, os, sys, zipfile, zlib

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
random = bytes((i * 7919 + (i >> 3) * 31) & 0xFF for i in range(300_000))
text = b"Atrium \xe5\xbd\xb1\xe5\x83\x8f " * 5000
archives = {}
counter = itertools.count()

def content(data):
    path = os.path.join(out, f"content-{next(counter)}")
    open(path, "wb").write(data)
    return path

def listing(z):
    return [{"name": i.filename, "size": i.file_size, "contentPath": content(z.read(i))} for i in z.infolist() if not i.is_dir()]

def archive(name, build, **options):
    path = os.path.join(out, name)
    with zipfile.ZipFile(path, "w", **options) as z:
        build(z)
    with zipfile.ZipFile(path) as z:
        archives[path] = listing(z)

def mixed(z):
    z.writestr("folder/", b"")
    z.writestr(zipfile.ZipInfo("folder/stored.bin"), random, zipfile.ZIP_STORED)
    z.writestr(zipfile.ZipInfo("folder/deflated.txt"), text, zipfile.ZIP_DEFLATED)
    z.writestr(zipfile.ZipInfo("empty"), b"", zipfile.ZIP_DEFLATED)
    z.writestr(zipfile.ZipInfo("影像/名字.dcm"), random[:1000], zipfile.ZIP_DEFLATED)
archive("mixed.zip", mixed)

def zip64(z):
    with z.open(zipfile.ZipInfo("large.bin"), "w", force_zip64=True) as f:
        f.write(random)
        f.write(text)
    z.writestr("small.txt", b"small", zipfile.ZIP_DEFLATED)
archive("zip64.zip", zip64, compression=zipfile.ZIP_DEFLATED)

# Streamed from a file object Python cannot seek back in: sizes follow the data in a data descriptor (bit 3).
class Unseekable(io.RawIOBase):
    def __init__(self, f): self.f = f
    def writable(self): return True
    def write(self, b): return self.f.write(b)
path = os.path.join(out, "descriptor.zip")
with open(path, "wb") as raw:
    with zipfile.ZipFile(Unseekable(raw), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("streamed.txt", text)
with zipfile.ZipFile(path) as z:
    archives[path] = listing(z)
    flags = [i.flag_bits for i in z.infolist()]
assert all(f & 8 for f in flags), flags

streams = []
for name, data in [("raw", zlib.compressobj(6, zlib.DEFLATED, -15)), ("zlib", zlib.compressobj(6, zlib.DEFLATED, 15)),
                   ("gzip", None)]:
    payload = text + random
    compressed = gzip.compress(payload) if data is None else data.compress(payload) + data.flush()
    p = os.path.join(out, f"stream.{name}")
    open(p, "wb").write(compressed)
    streams.append({"path": p, "format": name, "size": len(payload), "contentPath": content(payload)})
print(json.dumps({"archives": archives, "streams": streams}))
