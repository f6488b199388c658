#!/usr/bin/env python3
"""Reads a QR code with zxing-cpp (an implementation nobody here wrote) from a module matrix.

Usage: read_qr.py MATRIX_JSON  (a list of rows of 0/1, dark = 1, without the quiet zone)
Draws the matrix with Pillow (8 pixels a module, a 4-module quiet zone) and prints what zxing-cpp decodes, as JSON:
{"text": ..., "format": ...}, or exits 1 when nothing is found.
"""
import json
import sys

import zxingcpp
from PIL import Image

rows = json.load(open(sys.argv[1]))
scale, quiet = 8, 4
size = (len(rows) + 2 * quiet) * scale
image = Image.new("L", (size, size), 255)
pixels = image.load()
for y, row in enumerate(rows):
    for x, dark in enumerate(row):
        if dark:
            for dy in range(scale):
                for dx in range(scale):
                    pixels[(x + quiet) * scale + dx, (y + quiet) * scale + dy] = 0
results = zxingcpp.read_barcodes(image)
if not results:
    sys.exit("no QR code found")
print(json.dumps({"text": results[0].text, "format": str(results[0].format)}))
