"""Cross-compile and link one profile into the three test images.

For profile NAME, in OUT/NAME/:
  <layer>/<file>.o, .su, .ci   objects with their stack usage and call graph
  <image>.elf, .map            the linked image and its linker map
  <image>.nm, .dis, .size      nm -S --size-sort, objdump -d, size -A
  <image>.rodata.bin           the image's .rodata (feature strings)
  <layer>.undef                nm -u of the layer's objects
  probe.nm                     sizeof of the public structures
  warnings.txt, link.txt       the compiler's and linker's messages
"""
import os
import subprocess

from size import sources

ARCH = ['-mthumb', '-mcpu=cortex-m4']
CFLAGS = ['-std=c99', '-Os'] + ARCH + [
    '-ffunction-sections', '-fdata-sections',
    '-Wall', '-Wextra', '-Wshadow', '-Wstrict-prototypes', '-Wmissing-prototypes']
LDFLAGS = ARCH + ['--specs=nano.specs', '-nostartfiles', '-Wl,--gc-sections',
                  '-Wl,-e,' + sources.ENTRY, '-Wl,-u,' + sources.KEEP]


class BuildError(Exception):
    pass


class Toolchain:
    def __init__(self, cross):
        self.cross = cross

    def tool(self, name):
        return self.cross + name

    def run(self, name, args, log=None):
        """Run a tool; its stdout as text.  With `log`, stderr is appended
        to that file and a failure raises BuildError."""
        cmd = [self.tool(name)] + args
        if log is None:
            return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        with open(log, 'a') as err:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        if p.returncode != 0:
            raise BuildError(log)
        return p.stdout

    def to_file(self, name, args, path):
        with open(path, 'w') as f:
            f.write(self.run(name, args))


def write_generated(root, gen):
    """The images' entry files and the sizeof probe, from the headers; and
    the public function lists the stack analysis starts from."""
    os.makedirs(gen, exist_ok=True)
    for image in sources.IMAGES:
        names = sources.image_functions(root, image)
        with open(os.path.join(gen, 'keep_%s.c' % image), 'w') as f:
            f.write(sources.keep_file(image, names))
        with open(os.path.join(gen, '%s.txt' % image), 'w') as f:
            f.write('\n'.join(names) + '\n')
    with open(os.path.join(gen, 'probe.c'), 'w') as f:
        f.write(sources.PROBE)


def build(tc, root, out, name, defines):
    """Build profile `name` with the extra -D options `defines`."""
    d = os.path.join(out, name)
    gen = os.path.join(out, 'gen')
    os.makedirs(d, exist_ok=True)
    cflags = CFLAGS + ['-I' + os.path.join(root, 'include'), '-I' + os.path.join(root, 'src')]
    cflags += ['-D' + x for x in defines]
    warn = os.path.join(d, 'warnings.txt')
    objs = {}
    for layer in sources.LAYERS:
        os.makedirs(os.path.join(d, layer), exist_ok=True)
        objs[layer] = []
        for src in sources.core_sources(root, layer):
            o = os.path.join(d, layer, os.path.basename(src)[:-2] + '.o')
            tc.run('gcc', cflags + ['-fstack-usage', '-fcallgraph-info=su', '-c', src, '-o', o],
                   log=warn)
            objs[layer].append(o)
    for f in ['keep_' + i for i in sources.IMAGES] + ['probe']:
        tc.run('gcc', cflags + ['-c', os.path.join(gen, f + '.c'),
                                '-o', os.path.join(d, f + '.o')], log=warn)
    for image, spec in sources.IMAGES.items():
        elf = os.path.join(d, image + '.elf')
        inputs = [os.path.join(d, 'keep_%s.o' % image)]
        for layer in spec['layers']:
            inputs += objs[layer]
        tc.run('gcc', LDFLAGS + ['-Wl,-Map=' + os.path.join(d, image + '.map'), '-o', elf]
               + inputs, log=os.path.join(d, 'link.txt'))
        tc.to_file('nm', ['-S', '--size-sort', elf], os.path.join(d, image + '.nm'))
        tc.to_file('objdump', ['-d', elf], os.path.join(d, image + '.dis'))
        tc.to_file('size', ['-A', elf], os.path.join(d, image + '.size'))
        tc.run('objcopy', ['-O', 'binary', '--only-section=.rodata', elf,
                           os.path.join(d, image + '.rodata.bin')])
    tc.to_file('nm', ['-S', '--size-sort', os.path.join(d, 'probe.o')],
               os.path.join(d, 'probe.nm'))
    for layer in sources.LAYERS:
        text = tc.run('nm', ['-u'] + objs[layer]) if objs[layer] else ''
        with open(os.path.join(d, layer + '.undef'), 'w') as f:
            f.write(text)


def build_port(tc, root, out):
    """The lwIP port (ports/lwip), bare-metal configuration, as an object:
    it cannot be linked without lwIP, and every function is reachable from
    its transport table anyway.  `size -A` of the object, or None when lwIP's
    headers or the port are missing."""
    src = os.path.join(root, 'ports', 'lwip', 'smtpc_lwip.c')
    if not (os.path.exists('/usr/include/lwip/lwip/tcp.h') and os.path.exists(src)):
        return None
    o = os.path.join(out, 'smtpc_lwip.o')
    cflags = CFLAGS + ['-I' + os.path.join(root, 'include'), '-I' + os.path.join(root, 'src'),
                       '-I' + os.path.join(root, 'ports', 'lwip'),
                       '-I' + os.path.join(root, 'ports', 'lwip', 'example'),
                       '-I/usr/include/lwip']
    try:
        tc.run('gcc', cflags + ['-c', src, '-o', o], log=os.path.join(out, 'port-warnings.txt'))
    except BuildError:
        return None
    return tc.run('size', ['-A', o])
