"""Refresh the test data of tests/size/ from a scripts/size.sh run.

    /usr/bin/python3 tests/data/size/refresh.py BUILD-SIZE-DIR TREE

BUILD-SIZE-DIR is scripts/size.sh's --out directory and TREE the checkout
it measured.  Taken from the full profile (every feature on, so the
feature rules have something to find):

  client.map          the client image's linker map from "Linker script and
                      memory map" on (what the parser reads)
  client.size         size -A of the image: the ELF's own section sizes
  client.nm           nm -S --size-sort of the image
  client.rodata.bin   the image's .rodata
  client.dis          objdump -d of the image, only the functions no .ci
                      file covers (newlib, libgcc, the entry)
  engine/, client/    the .ci and .su files gcc wrote for each object
  api.txt             the public functions of smtpc/engine.h and client.h

Paths are rewritten so that the data does not depend on where it was made:
the build directory becomes /smtpc/build-size and the tree /smtpc.
"""
import glob
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', 'scripts'))
from size import stack  # noqa: E402


def main(out, tree):
    out, tree = os.path.abspath(out), os.path.abspath(tree)
    src = os.path.join(out, 'full')

    def clean(text):
        return text.replace(out + '/', '/smtpc/build-size/').replace(tree + '/', '/smtpc/')

    def copy(name, dest=None, text=None):
        if text is None:
            with open(os.path.join(src, name)) as f:
                text = f.read()
        dest = os.path.join(HERE, dest or name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, 'w') as f:
            f.write(clean(text))

    with open(os.path.join(src, 'client.map')) as f:
        text = f.read()
    copy('client.map', text=text[text.index('Linker script and memory map'):])
    copy('client.size')
    copy('client.nm')
    shutil.copyfile(os.path.join(src, 'client.rodata.bin'), os.path.join(HERE, 'client.rodata.bin'))
    for layer in ('engine', 'client'):
        shutil.rmtree(os.path.join(HERE, layer), ignore_errors=True)
        for su in sorted(glob.glob(os.path.join(src, layer, '*.su'))):
            if os.path.getsize(su) == 0:    # a file this profile compiles to nothing
                continue
            for f in (su, su[:-3] + '.ci'):
                copy(os.path.join(layer, os.path.basename(f)))
    graph = stack.load_callgraph(sorted(glob.glob(os.path.join(src, '*', '*.ci'))))
    own = set(stack.short(n) for n in graph.frames)
    kept, keep = [], False
    with open(os.path.join(src, 'client.dis')) as f:
        for line in f:
            m = re.match(r'^[0-9a-f]+ <([^>]+)>:', line)
            if m:
                keep = m.group(1).split('.')[0] not in own
            if keep or m is None and not line.strip() and kept and kept[-1].strip():
                kept.append(line)
    copy('client.dis', text=''.join(kept))
    api = ''
    for img in ('engine', 'client'):
        with open(os.path.join(out, 'gen', img + '.txt')) as f:
            api += f.read()
    copy('api.txt', text=api)


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
