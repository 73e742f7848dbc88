"""The NetX Duo comparison's attribution and table (scripts/size/netx.py)."""
import os
import unittest

import sizedata
from size import netx

# A map of the smtpc side: two objects of the side's directory, the
# entry, padding, a libc member, and .bss.
MAP = '''\
Linker script and memory map

.text           0x00008000       0x40
 .text.a        0x00008000       0x10 /o/netx-smtpc/engine_tiny.o
 .text.b        0x00008010       0x0c /o/netx-smtpc/netxduo_smtpc_netxduo.o
 *fill*         0x0000801c        0x4 
 .text.k        0x00008020        0x8 /o/netx-smtpc/keep.o
 .text          0x00008028       0x18 /usr/lib/arm-none-eabi/lib/thumb/libc_nano.a(libc_a-memcpy.o)

.rodata         0x00008040        0x6
 .rodata.s      0x00008040        0x6 /o/netx-smtpc/engine_tiny.o

.bss            0x00008048        0x8
 .bss.x         0x00008048        0x8 /o/netx-smtpc/compat_nxd_smtp_mail.o
'''


class Locate(unittest.TestCase):
    def test_none_or_both_source_trees(self):
        found = netx.locate(sizedata.ROOT)
        if found is not None:
            self.assertTrue(all(os.path.isdir(d) for d in found))


class Attribute(unittest.TestCase):
    def test_groups(self):
        g = netx.attribute(MAP, '/o/netx-smtpc/')
        self.assertEqual(g['own'], {'text': 0x1c, 'rodata': 6, 'data': 0, 'bss': 8})
        self.assertEqual(g['libc']['text'], 0x18)
        self.assertEqual(g['other']['text'], 4 + 8)  # padding and the entry

    def test_markdown_ratio(self):
        side = {'groups': netx.attribute(MAP, '/o/netx-smtpc/'), 'sizeof': 100}
        half = {'groups': {k: {kk: vv // 2 for kk, vv in v.items()}
                           for k, v in side['groups'].items()}, 'sizeof': 50}
        md = '\n'.join(netx.markdown({'smtpc': side, 'original': half}))
        self.assertIn('| **smtpc** | **all** | 64 | 6 | 0 | 8 | **78** |', md)
        self.assertIn('all sections: 2.00x', md)
        self.assertIn('smtpc 100, original 50', md)


if __name__ == '__main__':
    unittest.main()
