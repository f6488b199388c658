#!/usr/bin/env python3
"""The HTTP side of bench/archive.sh: QIDO-RS latency and WADO-RS throughput, Atrium and Orthanc interleaved.

  archive_client.py qido ATRIUM_BASE ORTHANC_BASE ROUNDS   -> one line per query: counts, median ms, ratio
  archive_client.py wado ATRIUM_BASE ORTHANC_BASE STUDY SERIES INSTANCES ROUNDS
  archive_client.py count BASE STUDY                        -> NumberOfStudyRelatedInstances of one study
  archive_client.py floor DIR N SIZE                        -> files/s of the durable-write floor (see floor())

Both servers get the same requests over one keep-alive connection each, alternately, so that load from elsewhere on
the machine falls on both alike. Bases are DICOMweb roots such as http://127.0.0.1:8042/dicom-web. ATRIUM_TOKEN in the
environment is sent to Atrium as a bearer token.
"""
import http.client
import json
import os
import statistics
import sys
import time
import urllib.parse

# Atrium's API token (Authorization: Bearer), when its DICOMweb routes ask for one.
ATRIUM_TOKEN = os.environ.get("ATRIUM_TOKEN") or None
QUERIES = [
    ("patient name wildcard", "PatientName=Zhao*"),
    ("study date range", "StudyDate=20200301-20200331"),
    ("modality", "ModalitiesInStudy=PT"),
]


class Client:
    def __init__(self, base, token=None):
        url = urllib.parse.urlsplit(base)
        self.path = url.path.rstrip("/")
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
        self.headers = {"Authorization": "Bearer " + token} if token else {}

    def get(self, path, accept):
        self.connection.request("GET", self.path + path, headers=dict(self.headers, Accept=accept))
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit("GET %s%s: HTTP %d %s" % (self.path, path, response.status, body[:200]))
        return response, body


def qido(atrium_base, orthanc_base, rounds):
    clients = {"atrium": Client(atrium_base, ATRIUM_TOKEN), "orthanc": Client(orthanc_base)}
    for label, query in QUERIES:
        path = "/studies?" + query
        counts, times = {}, {name: [] for name in clients}
        for name, client in clients.items():  # one untimed request each: warm caches, check the answers agree
            _, body = client.get(path, "application/dicom+json")
            counts[name] = sorted(s["0020000D"]["Value"][0] for s in json.loads(body or b"[]"))
        if counts["atrium"] != counts["orthanc"]:
            raise SystemExit("%s: the servers disagree (%d vs %d studies)" % (label, len(counts["atrium"]), len(counts["orthanc"])))
        for _ in range(rounds):
            for name, client in clients.items():
                start = time.perf_counter()
                client.get(path, "application/dicom+json")
                times[name].append(time.perf_counter() - start)
        a, o = statistics.median(times["atrium"]) * 1000, statistics.median(times["orthanc"]) * 1000
        print("QIDO-RS %-22s %4d studies: Atrium %7.1f ms, Orthanc %7.1f ms (medians of %d): Atrium/Orthanc latency %.3f (target <= 0.333)"
              % (label, len(counts["atrium"]), a, o, rounds, a / o))


def wado(atrium_base, orthanc_base, study, series, instances, rounds):
    clients = {"atrium": Client(atrium_base, ATRIUM_TOKEN), "orthanc": Client(orthanc_base)}
    path = "/studies/%s/series/%s" % (study, series)
    accept = 'multipart/related; type="application/dicom"; transfer-syntax=*'
    best, sizes = {name: [] for name in clients}, {}
    for name, client in clients.items():
        response, body = client.get(path, accept)
        boundary = response.getheader("Content-Type").split("boundary=")[1].split(";")[0].strip('"')
        parts = body.count(b"--" + boundary.encode()) - 1
        if parts != instances:
            raise SystemExit("WADO-RS from %s: %d parts, expected %d" % (name, parts, instances))
        sizes[name] = len(body)
    for _ in range(rounds):
        for name, client in clients.items():
            start = time.perf_counter()
            _, body = client.get(path, accept)
            best[name].append(time.perf_counter() - start)
    a, o = statistics.median(best["atrium"]), statistics.median(best["orthanc"])
    print("WADO-RS series of %d instances (%.1f MB): Atrium %.0f MB/s (%.0f instances/s), Orthanc %.0f MB/s (%.0f instances/s) "
          "(medians of %d): Atrium/Orthanc throughput %.2fx (target >= 1)"
          % (instances, sizes["atrium"] / 1e6, sizes["atrium"] / a / 1e6, instances / a, sizes["orthanc"] / o / 1e6,
             instances / o, rounds, o / a))


def count(base, study):
    _, body = Client(base, ATRIUM_TOKEN).get("/studies?StudyInstanceUID=%s&includefield=00201208" % study, "application/dicom+json")
    found = json.loads(body or b"[]")
    print(found[0]["00201208"]["Value"][0] if found else 0)


def floor(directory, n, size):
    """What one disk allows a receiver that acknowledges only durable instances, one at a time: per instance, create a
    file of SIZE bytes, write and fsync it, fsync its directory, then append 16 KiB to a log and fdatasync it (the
    index commit). No parsing, no network: the ceiling for any serial durable ingest on this machine."""
    os.makedirs(directory, exist_ok=True)
    payload, page = os.urandom(size), os.urandom(16384)
    log = os.open(os.path.join(directory, "log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    folder = os.open(directory, os.O_RDONLY)
    start = time.perf_counter()
    for i in range(n):
        fd = os.open(os.path.join(directory, "%06d" % i), os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        os.write(fd, payload)
        os.fsync(fd)
        os.close(fd)
        os.fsync(folder)
        os.write(log, page)
        os.fdatasync(log)
    print("%.1f" % (n / (time.perf_counter() - start)))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "qido":
        qido(args[0], args[1], int(args[2]))
    elif command == "wado":
        wado(args[0], args[1], args[2], args[3], int(args[4]), int(args[5]))
    elif command == "count":
        count(args[0], args[1])
    elif command == "floor":
        floor(args[0], int(args[1]), int(args[2]))
