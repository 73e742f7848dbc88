"""One profile's figures, read from what build.py left in OUT/NAME/."""
import glob
import os

from size import binutils, mapfile, sources, stack
from size.sources import SIZEOF_PREFIX


def _read(path, mode='r'):
    with open(path, mode) as f:
        return f.read()


def profile(out, name):
    """{'images': {image: mapfile.ImageSizes}, 'elf': {image: {kind: n}},
    'nm': {image: {symbol: (size, type)}}, 'rodata': {image: bytes},
    'sizeof': {struct: n}, 'undef': {layer: [symbols]}}"""
    d = os.path.join(out, name)
    r = {'images': {}, 'elf': {}, 'nm': {}, 'rodata': {}, 'undef': {}}
    for img in sources.IMAGES:
        base = os.path.join(d, img)
        r['images'][img] = mapfile.attribute(_read(base + '.map'))
        r['elf'][img] = binutils.elf_sections(_read(base + '.size'))
        r['nm'][img] = binutils.nm_sizes(_read(base + '.nm'))
        r['rodata'][img] = _read(base + '.rodata.bin', 'rb')
    probe = binutils.nm_sizes(_read(os.path.join(d, 'probe.nm')))
    r['sizeof'] = {k[len(SIZEOF_PREFIX):]: v[0] for k, v in probe.items()
                   if k.startswith(SIZEOF_PREFIX)}
    for layer in sources.LAYERS:
        r['undef'][layer] = binutils.nm_undefined(_read(os.path.join(d, layer + '.undef')))
    return r


def stacks(out, name):
    """stack.report() of a profile: engine and client call graphs, libc and
    libgcc followed in the engine and client images."""
    d = os.path.join(out, name)
    graph = stack.load_callgraph(sorted(glob.glob(os.path.join(d, '*', '*.ci'))))
    dis = binutils.disassembly(_read(os.path.join(d, 'engine.dis')))
    dis.update(binutils.disassembly(_read(os.path.join(d, 'client.dis'))))
    api = []
    for img in ('engine', 'client'):
        api += [n for n in _read(os.path.join(out, 'gen', img + '.txt')).split('\n') if n]
    return stack.report(graph, dis, api)


def biggest(tc, out, name, image, layer, n, nm):
    """The n largest symbols of `layer` in one image: those defined by the
    layer's objects (nm --defined-only) with their size in the image."""
    names = set()
    for o in sorted(glob.glob(os.path.join(out, name, layer, '*.o'))):
        names |= binutils.nm_defined(tc.run('nm', ['--defined-only', o]))
    syms = [(size, sym, t) for sym, (size, t) in nm[image].items()
            if sym in names and t.lower() in ('t', 'r', 'd', 'b')]
    syms.sort(reverse=True)
    return syms[:n]
