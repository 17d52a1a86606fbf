#!/usr/bin/env python3
"""Lays images from several .npy files side by side: one row per image, one column per file (LR | bicubic |
SRResNet | SRGAN | HR, or input | pix2pix | U-Net | target), smaller images enlarged by nearest neighbour.

Usage: python3 tools/zoo/strips.py OUT.png ROWS FILE.npy [FILE.npy ...]
Each file holds float32 images (N,C,H,W) in [-1, 1] (`ganforge translate/upscale/pairs --out x.npy`). Plain Python:
the .npy is parsed and the PNG written with the standard library.
"""
import ast
import struct
import sys
import zlib


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", f"{path}: not a .npy file"
    hlen = struct.unpack("<H", data[8:10])[0] if data[6] == 1 else struct.unpack("<I", data[8:12])[0]
    start = 10 if data[6] == 1 else 12
    header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    assert header["descr"] == "<f4" and not header["fortran_order"], f"{path}: expected little-endian float32"
    shape = header["shape"]
    if len(shape) == 3:
        shape = (shape[0], 1, shape[1], shape[2])
    n = 1
    for s in shape:
        n *= s
    values = struct.unpack(f"<{n}f", data[start + hlen:start + hlen + 4 * n])
    return shape, values


def main():
    out, rows, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    sets = [load(f) for f in files]
    size = max(s[0][2] for s in sets)
    channels = max(s[0][1] for s in sets)
    pad = 2
    width = len(sets) * (size + pad) + pad
    height = rows * (size + pad) + pad
    pixels = bytearray(width * height * 3)
    for col, ((n, c, h, w), values) in enumerate(sets):
        for row in range(min(rows, n)):
            for y in range(size):
                for x in range(size):
                    sy, sx = y * h // size, x * w // size
                    for ch in range(3):
                        k = ch if c == 3 else 0
                        v = values[((row * c + k) * h + sy) * w + sx]
                        px = (pad + row * (size + pad) + y) * width + pad + col * (size + pad) + x
                        pixels[px * 3 + ch] = max(0, min(255, round((v + 1) * 127.5)))
    raw = b"".join(b"\x00" + bytes(pixels[y * width * 3:(y + 1) * width * 3]) for y in range(height))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(out, "wb") as f:
        f.write(png)
    print(f"{out}: {rows} rows of {len(files)} columns, {size}x{size} each" + ("" if channels == 3 else " (gray)"))


if __name__ == "__main__":
    main()
