#!/usr/bin/python3
"""fuzz/make_mime_seeds.py: writes the seed corpora of fuzz_mime_enc and
fuzz_mime_hdr (fuzz/corpus/<target>/seed-*); see each target's header
comment for the input format."""
import os

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


text = b"Hello,\r\n.dot line\nFrom me\r\ntrailing space \nend=of=line\t\n" * 3
binary = bytes(range(256)) * 2
# fuzz_mime_enc: c0 (encoding | text<<3 | callback<<4 | 8bit<<5 |
# sized<<6 | multipart<<7), read size, two callback piece sizes.
for enc in range(5):
    for textual in (0, 1):
        c0 = enc | textual << 3
        body = text if textual else binary
        put("fuzz_mime_enc", "buf-e%d-t%d" % (enc, textual), bytes([c0, 200, 0, 0]) + body)
        put("fuzz_mime_enc", "cb-e%d-t%d" % (enc, textual),
            bytes([c0 | 0x10 | 0x40 | 0x80, 3, 5, 0xff]) + body)
put("fuzz_mime_enc", "qp-long-line", bytes([3 | 8, 1, 0, 0]) + b"x= " * 60 + b"\n")
put("fuzz_mime_enc", "boundary-line", bytes([0 | 8, 9, 0, 0]) + b"a\r\n--=_x\r\n")
put("fuzz_mime_enc", "empty", bytes([4, 0, 0, 0]))
# fuzz_mime_hdr: flags (SMTPUTF8 | read size << 1), then Subject, two
# names, a custom value and a file name, NUL-separated.
hdr = [
    [b"Hello", b"Alice Smith", b"Doe, John", b"plain value", b"report.pdf"],
    ["Grüße aus Köln — 東京 🎉".encode(), "Jöhn \"JD\" Dœ".encode(), b"back\\slash",
     "e\u0301e\u0301 combining".encode(), "résumé 2026.pdf".encode()],
    [b"w" * 300, b"x" * 90, "山田 太郎".encode(), b"word " * 40, "données".encode() * 30],
    [b"  leading and trailing  ", b"=?utf-8?Q?x?=", b"", b"tab\there", b"say \"hi\".txt"],
    [b"bad\r\nBcc: x@y", b"ok", b"ok", b"ok", b"ok"],
]
for i, h in enumerate(hdr):
    for flags in (0, 1, 40):
        put("fuzz_mime_hdr", "h%d-f%d" % (i, flags), bytes([flags]) + b"\0".join(h))
