"""Bytes of a linked image per layer and per source file, from its GNU ld map.

Counting object files would include the functions --gc-sections drops;
counting only the ELF would not say which layer costs what.  The map says,
for every input section kept, its address, size and object file.  Input
sections are clipped to the next one's address so that strings the linker
merged across objects (.rodata.str1.1) are counted once.
"""
import re

# Layers in report order.  'other' is the image's entry and keep table,
# the compat layer's port stubs and padding.
LAYERS = ['engine', 'client', 'compat', 'mime', 'libc', 'libgcc', 'other']
SMTPC_LAYERS = ('engine', 'client', 'compat', 'mime')
KINDS = ['text', 'rodata', 'data', 'bss']

_OBJ_RE = re.compile(r'/(engine|client|compat|mime)/([\w.-]+)\.o$')


def kind_of(outsec):
    """The kind (text, rodata, data, bss) an output section counts as, or
    None for what is not loaded (debug info, attributes...)."""
    if outsec == '.text':
        return 'text'
    if outsec in ('.rodata', '.ARM.exidx', '.ARM.extab'):
        return 'rodata'
    if outsec == '.data':
        return 'data'
    if outsec == '.bss':
        return 'bss'
    return None


def file_of(obj):
    """'engine/reply.c' for .../engine/reply.o; None for anything else.
    Only the object's own directory counts, not where the build tree is."""
    m = _OBJ_RE.search(obj)
    return '%s/%s.c' % (m.group(1), m.group(2)) if m else None


def layer_of(obj):
    m = _OBJ_RE.search(obj)
    if m:
        return m.group(1)
    # Archive members: .../libc_nano.a(libc_a-memcpy-stub.o)
    if 'libc' in obj or 'libnosys' in obj:
        return 'libc'
    if 'libgcc' in obj:
        return 'libgcc'
    return 'other'


_OUTSEC = re.compile(r'^(\.[\w.]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)')
_OUTSEC_ALONE = re.compile(r'^\.[\w.]+\s*$')
_CONT = re.compile(r'^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$')
_FILL = re.compile(r'^ (\*fill\*)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)')
_INSEC = re.compile(r'^ ([.\w][^\s*]*|COMMON)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$')
_INSEC_ALONE = re.compile(r'^ ([.\w][^\s*]*|COMMON)\s*$')


def input_sections(text):
    """{output section: [(address, size, object or '*fill*')]} of a map.

    ld writes an input section on one line, or its name alone when it is
    long and the address, size and object on the next line."""
    lines = text.split('\n')
    try:
        start = lines.index('Linker script and memory map')
    except ValueError:
        raise ValueError('no memory map (no "Linker script and memory map" line)')
    entries = {}
    outsec = None
    pending = False
    for line in lines[start:]:
        m = _OUTSEC.match(line)
        if m:
            outsec = m.group(1)
            continue
        if _OUTSEC_ALONE.match(line):
            outsec = line.strip()
            continue
        if pending:
            pending = False
            m = _CONT.match(line)
            if m:
                entries.setdefault(outsec, []).append(
                    (int(m.group(1), 16), int(m.group(2), 16), m.group(3)))
            continue
        m = _FILL.match(line)
        if m:
            entries.setdefault(outsec, []).append(
                (int(m.group(2), 16), int(m.group(3), 16), '*fill*'))
            continue
        m = _INSEC.match(line)
        if m:
            entries.setdefault(outsec, []).append(
                (int(m.group(2), 16), int(m.group(3), 16), m.group(4)))
            continue
        if _INSEC_ALONE.match(line):
            pending = True
    return entries


class ImageSizes:
    """One image's bytes: by_layer[(layer, kind)] and files[file][kind]."""

    def __init__(self):
        self.by_layer = {(l, k): 0 for l in LAYERS for k in KINDS}
        self.files = {}

    def get(self, layers, kinds=('text', 'rodata')):
        """Sum over some layers and kinds (default: .text+.rodata, flash)."""
        return sum(self.by_layer[(l, k)] for l in layers for k in kinds)

    def total(self, kind):
        return sum(self.by_layer[(l, kind)] for l in LAYERS)


def attribute(text):
    """ImageSizes of the map `text`."""
    sizes = ImageSizes()
    for sec, ents in input_sections(text).items():
        kind = kind_of(sec)
        if kind is None:
            continue
        ents = [e for e in ents if e[1] > 0]
        for i, (addr, size, obj) in enumerate(ents):
            if i + 1 < len(ents):
                size = min(size, max(0, ents[i + 1][0] - addr))
            sizes.by_layer[(layer_of(obj), kind)] += size
            f = file_of(obj)
            if f:
                sizes.files.setdefault(f, {k: 0 for k in KINDS})[kind] += size
    return sizes


def parse_map(path):
    with open(path) as f:
        return attribute(f.read())
