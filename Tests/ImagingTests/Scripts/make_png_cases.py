"""PNG files of every colour type, bit depth and interlacing, with the pixels a reader should give (PNGDecoderTests).

Usage: make_png_cases.py FOLDER. Writes NAME.png and NAME.json ({"width", "height", "channels", "tolerance"}) and
NAME.raw (8-bit samples, rows top to bottom, alpha composited over white as round((v*a + 255*(255-a)) / 255)).
Pillow writes the common files; the few Pillow cannot write (16-bit, Adam7 interlaced) are written here with zlib,
from the PNG specification, and their expected pixels come from the arrays they were made from.
"""
import json
import os
import struct
import sys
import zlib

import numpy
from PIL import Image

folder = sys.argv[1]
rng = numpy.random.default_rng(20261207)


def save(name, data, pixels, tolerance=0):
    pixels = numpy.asarray(pixels)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    with open(os.path.join(folder, name + ".png"), "wb") as f:
        f.write(data)
    with open(os.path.join(folder, name + ".raw"), "wb") as f:
        f.write(pixels.astype(numpy.uint8).tobytes())
    with open(os.path.join(folder, name + ".json"), "w") as f:
        json.dump({"width": pixels.shape[1], "height": pixels.shape[0], "channels": pixels.shape[2],
                   "tolerance": tolerance}, f)


def over_white(rgba):
    rgba = numpy.asarray(rgba, dtype=int)
    colour, alpha = rgba[:, :, :-1], rgba[:, :, -1:]
    return (colour * alpha + 255 * (255 - alpha) + 127) // 255


def pillow(image, **options):
    import io
    out = io.BytesIO()
    image.save(out, "PNG", **options)
    return out.getvalue()


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def write_png(samples, bit_depth, colour_type, interlaced):
    """samples: height × width × components array of unsigned values of bit_depth (8 or 16)."""
    height, width, components = samples.shape
    dtype = ">u2" if bit_depth == 16 else "u1"

    def rows(image):
        return b"".join(b"\x00" + image[y].astype(dtype).tobytes() for y in range(image.shape[0]))

    if not interlaced:
        raw = rows(samples)
    else:
        raw = b""
        # Adam7: (x start, y start, x step, y step) of each of the seven passes.
        for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
            sub = samples[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += rows(sub)
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 1 if interlaced else 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


rgb = rng.integers(0, 256, (37, 53, 3), dtype=numpy.uint8)
grey = rng.integers(0, 256, (29, 41), dtype=numpy.uint8)
alpha = rng.integers(0, 256, (37, 53), dtype=numpy.uint8)

save("rgb8", pillow(Image.fromarray(rgb, "RGB")), rgb)
rgba = numpy.dstack([rgb, alpha])
save("rgba8", pillow(Image.fromarray(rgba, "RGBA")), over_white(rgba))
save("grey8", pillow(Image.fromarray(grey, "L")), grey)
la = numpy.dstack([grey, alpha[:29, :41]])
save("grey-alpha8", pillow(Image.fromarray(la, "LA")), over_white(la))
bits = rng.integers(0, 2, (23, 45), dtype=numpy.uint8) * 255
save("grey1", pillow(Image.fromarray(bits, "L").convert("1")), bits)

palette_image = Image.fromarray(rgb, "RGB").quantize(colors=200)
save("palette8", pillow(palette_image), numpy.asarray(palette_image.convert("RGB")))
small_palette = Image.fromarray(rgb, "RGB").quantize(colors=12)
save("palette4", pillow(small_palette, bits=4), numpy.asarray(small_palette.convert("RGB")))
# A palette with one transparent entry (tRNS): those pixels become white.
transparent = Image.fromarray(rgb, "RGB").quantize(colors=16)
transparent.info["transparency"] = 3
data = pillow(transparent, transparency=3)
save("palette-transparent", data, over_white(numpy.asarray(Image.open(__import__("io").BytesIO(data)).convert("RGBA"))))

deep = rng.integers(0, 65536, (19, 27), dtype=numpy.uint16)
reduced = (deep.astype(int) * 255 + 32767) // 65535
save("grey16", write_png(deep[:, :, None], 16, 0, False), reduced, tolerance=1)
deep_rgb = rng.integers(0, 65536, (17, 21, 3), dtype=numpy.uint16)
save("rgb16", write_png(deep_rgb, 16, 2, False), (deep_rgb.astype(int) * 255 + 32767) // 65535, tolerance=1)
for name, array, colour_type in [("rgb8-interlaced", rgb, 2), ("rgba8-interlaced", rgba, 6)]:
    data = write_png(array, 8, colour_type, True)
    # The hand-written files are checked with Pillow first, so that a mistake here cannot pass for the reader's.
    read = Image.open(__import__("io").BytesIO(data))
    if read.info.get("interlace") != 1 or not (numpy.asarray(read) == array).all():
        sys.exit(f"{name}: Pillow does not read the written file back as made")
    save(name, data, array if colour_type == 2 else over_white(array))
tiny = rng.integers(0, 256, (3, 5, 3), dtype=numpy.uint8)  # smaller than the first Adam7 passes
save("rgb8-interlaced-tiny", write_png(tiny, 8, 2, True), tiny)
# For the refusals: a valid header claiming 60,000 × 60,000 RGB pixels over a few bytes of image data.
with open(os.path.join(folder, "huge-header.bin"), "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(1000))) + chunk(b"IEND", b""))
print("ok")
