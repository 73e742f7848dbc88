"""Readers of size, nm and objdump output (scripts/size/binutils.py)."""
import unittest

import sizedata
from size import binutils

SIZE_OBJ = '''\
smtpc_lwip.o  :
section                 size   addr
.text                      0      0
.data                      0      0
.bss                       0      0
.text.smtpc_lwip_send    120      0
.text.smtpc_lwip_recv     80      0
.rodata.str1.1            17      0
.rodata.ops               16      0
.bss.pool                  8      0
.debug_info             4000      0
.comment                  38      0
Total                   4279
'''

DIS = '''\
00008000 <f>:
    8000:\tb5f0      \tpush\t{r4, r5, r6, r7, lr}
    8002:\tb085      \tsub\tsp, #20
    8004:\tf000 f804 \tbl\t8010 <g>
    8008:\tf000 b808 \tb.w\t801c <h>
    800c:\te7f8      \tb.n\t8000 <f>

00008010 <g>:
    8010:\te92d 4ff0 \tstmdb\tsp!, {r4, r5, r6, r7, r8, r9, sl, fp, lr}
    8014:\tf5ad 7d00 \tsub.w\tsp, sp, #512\t@ 0x200
    8018:\tf7ff fff2 \tbl\t8000 <f>

0000801c <h>:
    801c:\t4770      \tbx\tlr
'''


class Readers(unittest.TestCase):
    def test_object_sections_sum_function_sections(self):
        self.assertEqual(binutils.object_sections(SIZE_OBJ),
                         {'text': 200, 'rodata': 33, 'data': 0, 'bss': 8})

    def test_elf_sections_of_the_real_image(self):
        # The checked-in image: .ARM.exidx counts as read-only data, debug
        # sections and .comment not at all.
        text = sizedata.read('client.size')
        got = binutils.elf_sections(text)
        rows = dict((p[0], int(p[1])) for p in (l.split() for l in text.split('\n'))
                    if len(p) == 3 and p[0].startswith('.'))
        self.assertEqual(got['text'], rows['.text'])
        self.assertEqual(got['rodata'], rows['.rodata'] + rows.get('.ARM.exidx', 0))

    def test_nm_sizes(self):
        got = binutils.nm_sizes('00008000 00000010 T f\n'
                                '0000b000 00000004 r g.0\n'
                                '         U memcpy\n'
                                '00008100 t no_size\n')
        self.assertEqual(got, {'f': (16, 'T'), 'g.0': (4, 'r')})

    def test_nm_undefined_over_many_objects(self):
        text = '\na.o:\n         U memcpy\n         U malloc\n\nb.o:\n         U memcpy\n'
        self.assertEqual(binutils.nm_undefined(text), ['malloc', 'memcpy'])

    def test_nm_defined(self):
        self.assertEqual(binutils.nm_defined('00000000 T f\n00000010 t g\n'), {'f', 'g'})

    def test_disassembly_frames_and_calls(self):
        d = binutils.disassembly(DIS)
        self.assertEqual(d['f']['frame'], 5 * 4 + 20)
        self.assertEqual(d['f']['calls'], {'g', 'h'})      # a branch to itself is a loop
        self.assertEqual(d['g']['frame'], 9 * 4 + 512)
        self.assertEqual(d['g']['calls'], {'f'})
        self.assertEqual(d['h'], {'frame': 0, 'calls': set()})

    def test_register_ranges(self):
        d = binutils.disassembly('00008000 <f>:\n    8000:\tb5f0\tpush\t{r4-r7, lr}\n')
        self.assertEqual(d['f']['frame'], 20)

    def test_real_disassembly(self):
        # newlib's and libgcc's functions of the checked-in image: every
        # call goes to a function of the same listing or stays unresolved
        # (never to itself), frames are word multiples.
        d = binutils.disassembly(sizedata.read('client.dis'))
        self.assertTrue(d)
        for name, f in d.items():
            self.assertNotIn(name, f['calls'])
            self.assertEqual(f['frame'] % 4, 0, name)


if __name__ == '__main__':
    unittest.main()
