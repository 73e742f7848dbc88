"""The linker map's attribution (scripts/size/mapfile.py)."""
import re
import unittest

import sizedata
from size import binutils, mapfile
from size.mapfile import KINDS

# A map in ld's format, small enough to count by hand: two engine
# functions, a client function whose section name is long (ld then writes
# address, size and object on the next line), strings merged across two
# objects (the second overlaps the first), libc and libgcc members,
# padding, .bss from COMMON, and debug info that must not count.
SMALL = '''\
Archive member included to satisfy reference by file (symbol)

Linker script and memory map

LOAD /home/client/b/full/engine/a.o
.text           0x00008000       0x5c
 .text.f        0x00008000       0x10 /home/client/b/full/engine/a.o
 .text.g        0x00008010       0x12 /home/client/b/full/engine/a.o
 *fill*         0x00008022        0x2 
 .text.a_function_with_a_long_name
                0x00008024       0x20 /home/client/b/full/client/c.o
 .text          0x00008044       0x10 /usr/lib/arm-none-eabi/lib/libc_nano.a(libc_a-memcpy.o)
 .text          0x00008054        0x8 /usr/lib/gcc/arm-none-eabi/12/libgcc.a(_udivmoddi4.o)

.rodata         0x0000805c       0x14
 .rodata.str1.1
                0x0000805c        0xc /home/client/b/full/engine/a.o
 .rodata.str1.1
                0x00008064        0x8 /home/client/b/full/client/c.o
                                  0x10 (size before relaxing)
 .rodata.empty  0x0000806c        0x0 /home/client/b/full/engine/a.o
 .rodata.t      0x0000806c        0x4 /home/client/b/full/keep_client.o

.bss            0x00008070        0x8
 COMMON         0x00008070        0x8 /home/client/b/full/compat/x.o

.debug_info     0x00000000      0x100
 .debug_info    0x00000000      0x100 /home/client/b/full/engine/a.o
'''


class SmallMap(unittest.TestCase):
    def setUp(self):
        self.s = mapfile.attribute(SMALL)

    def test_layers_from_the_objects_own_directory(self):
        # The build tree's path has '/client/' in it: it must not matter.
        b = self.s.by_layer
        self.assertEqual(b[('engine', 'text')], 0x10 + 0x12)
        self.assertEqual(b[('client', 'text')], 0x20)
        self.assertEqual(b[('libc', 'text')], 0x10)
        self.assertEqual(b[('libgcc', 'text')], 0x8)
        self.assertEqual(b[('other', 'text')], 0x2)     # the padding
        self.assertEqual(b[('compat', 'bss')], 0x8)

    def test_merged_strings_are_counted_once(self):
        b = self.s.by_layer
        # a.o's strings are clipped where c.o's begin: 8 + 8 bytes, not 12 + 8.
        self.assertEqual(b[('engine', 'rodata')], 0x8)
        self.assertEqual(b[('client', 'rodata')], 0x8)
        self.assertEqual(self.s.total('rodata'), 0x14)

    def test_totals_are_the_output_sections(self):
        self.assertEqual(self.s.total('text'), 0x5c)
        self.assertEqual(self.s.total('bss'), 0x8)
        self.assertEqual(self.s.total('data'), 0)

    def test_files(self):
        self.assertEqual(self.s.files['engine/a.c'], {'text': 0x22, 'rodata': 0x8,
                                                      'data': 0, 'bss': 0})
        self.assertEqual(self.s.files['client/c.c']['text'], 0x20)
        self.assertNotIn('keep_client.c', ' '.join(self.s.files))

    def test_get_sums_layers_and_kinds(self):
        self.assertEqual(self.s.get(['engine', 'client']), 0x22 + 0x20 + 0x8 + 0x8)
        self.assertEqual(self.s.get(['compat'], ('bss',)), 0x8)

    def test_not_a_map(self):
        with self.assertRaises(ValueError):
            mapfile.attribute('just some text\n')


class RealMap(unittest.TestCase):
    """The full profile's client image as ld wrote it."""

    @classmethod
    def setUpClass(cls):
        cls.text = sizedata.read('client.map')
        cls.s = mapfile.attribute(cls.text)

    def test_attribution_adds_up_to_the_elf(self):
        # Every loaded byte is attributed once: the sums per kind are the
        # ELF's own section sizes (size -A of the same image).
        elf = binutils.elf_sections(sizedata.read('client.size'))
        self.assertEqual({k: self.s.total(k) for k in KINDS}, elf)
        self.assertGreater(elf['text'], 0)

    def test_layers_of_the_client_image(self):
        b = self.s.by_layer
        for layer in ('engine', 'client', 'libc'):
            self.assertGreater(b[(layer, 'text')], 0, layer)
        for k in KINDS:
            self.assertEqual(b[('compat', k)], 0, 'the client image links no compat code')

    def test_files_add_up_to_their_layer(self):
        for layer in ('engine', 'client'):
            for k in KINDS:
                per_file = sum(v[k] for f, v in self.s.files.items()
                               if f.startswith(layer + '/'))
                self.assertEqual(per_file, self.s.by_layer[(layer, k)], (layer, k))

    def test_every_linked_object_has_its_file(self):
        # Each core object the map shows a kept .text section of is a file
        # of the report.
        objs = set(re.findall(r'/((?:engine|client)/\w+)\.o\n', self.text))
        linked = set(m for m in objs if re.search(
            r'\n \.text\.\S*\s+0x[0-9a-f]+\s+0x[1-9a-f][0-9a-f]*\s+\S*/' + m + r'\.o\n',
            self.text))
        self.assertTrue(linked)
        for m in linked:
            self.assertIn(m + '.c', self.s.files)

    def test_every_function_lies_in_its_layer(self):
        # nm's view of the same image: each sized function of the image
        # falls inside an input section of the map.
        ranges = [(a, a + n) for sec, ents in mapfile.input_sections(self.text).items()
                  if sec == '.text' for a, n, _ in ents]
        nm = binutils.nm_sizes(sizedata.read('client.nm'))
        addrs = {}
        for line in sizedata.read('client.nm').split('\n'):
            p = line.split()
            if len(p) == 4 and p[2] in 'tT':
                addrs[p[3]] = int(p[0], 16) & ~1
        self.assertTrue(addrs)
        for name, a in addrs.items():
            self.assertTrue(any(lo <= a and a + nm[name][0] <= hi for lo, hi in ranges), name)


if __name__ == '__main__':
    unittest.main()
