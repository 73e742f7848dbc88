"""The Markdown written into docs/FOOTPRINT.md (scripts/size/report.py)."""
import glob
import os
import unittest

import sizedata
from size import binutils, mapfile, netx, report, stack
from size.mapfile import KINDS


def real_profile():
    """A profile whose four images are the checked-in client image."""
    s = mapfile.attribute(sizedata.read('client.map'))
    elf = binutils.elf_sections(sizedata.read('client.size'))
    nm = binutils.nm_sizes(sizedata.read('client.nm'))
    imgs = ('engine', 'client', 'compat', 'mime')
    return {'images': {i: s for i in imgs},
            'elf': {i: elf for i in imgs},
            'nm': {i: nm for i in imgs},
            'sizeof': {'smtpc_session': 376, 'smtpc_client': 480, 'smtpc_rcpt': 88,
                       'NX_SMTP_CLIENT': 2520, 'SMTPC_IO_MIN': 1024}}


def cells(row):
    return [c.strip() for c in row.strip('|').split('|')]


class Rows(unittest.TestCase):
    def setUp(self):
        self.r = real_profile()

    def test_image_rows_add_up(self):
        rows = [cells(l) for l in report.image_rows(self.r, 'client', ['engine', 'client'])]
        self.assertEqual([c[1] for c in rows],
                         ['engine', 'client', '**engine+client**', 'libc+libgcc', 'image total'])
        num = [[int(x.strip('*')) for x in c[2:]] for c in rows]
        self.assertEqual(num[2], [a + b for a, b in zip(num[0], num[1])])
        for row in num:
            self.assertEqual(row[4], row[0] + row[1], '.text+.rodata')
        elf = self.r['elf']['client']
        self.assertEqual(num[4][:4], [elf[k] for k in mapfile.KINDS])

    def test_elf_row_only_when_the_map_does_not_add_up(self):
        self.assertEqual(len(report.image_rows(self.r, 'engine', ['engine'])), 3)
        self.r['elf'] = dict(self.r['elf'], engine=dict(self.r['elf']['engine'], text=1))
        rows = report.image_rows(self.r, 'engine', ['engine'])
        self.assertEqual(cells(rows[-1])[1:3], ['(ELF sections)', '1'])

    def test_files_largest_first(self):
        rows = [cells(l) for l in report.file_rows(self.r['images']['client'])]
        totals = [int(c[3]) for c in rows]
        self.assertEqual(totals, sorted(totals, reverse=True))
        self.assertEqual(len(rows), len(self.r['images']['client'].files))

    def test_feature_rows_compare_with_the_minimal_profile(self):
        def prof(n):
            s = mapfile.ImageSizes()
            s.by_layer[('engine', 'text')] = n
            return {'images': {'client': s}}
        reps = {'minimal': prof(1000), 'min+DSN': prof(1400), 'min+SIZE': prof(1000),
                'full': prof(3000)}
        self.assertEqual(report.feature_rows(reps, ['DSN', 'SIZE']),
                         ['| (minimal) | 1000 | |', '| DSN | 1400 | +400 |', '| SIZE | 1000 | +0 |',
                          '| (full: all of them) | 3000 | +2000 |'])

    def test_mime_added_leaves_out_what_the_client_already_has(self):
        # The writer's image over the minimal client: memcpy (same size) is
        # in both and not counted; strlen of another size, and the writer's
        # own code, are.
        s = mapfile.ImageSizes()
        s.by_layer[('mime', 'text')] = 900
        s.by_layer[('engine', 'text')] = 100
        s.by_layer[('libc', 'text')] = 400
        reps = {'minimal': {'nm': {'client': {'memcpy': (300, 'T'), 'strlen': (90, 'T'),
                                              'smtpc_base64_encode': (100, 'T')}}},
                'mime-lean': {'images': {'mime': s},
                              'nm': {'mime': {'memcpy': (300, 'T'), 'strlen': (100, 'T'),
                                              'smtpc_base64_encode': (100, 'T'),
                                              'segment': (900, 't')}}}}
        self.assertEqual(report.mime_added(reps, 'mime-lean'), 1400 - 300 - 100)

    def test_paths_relative_to_the_tree(self):
        self.assertEqual(report.relative('/t/src/engine/x.c:f', '/t'), 'src/engine/x.c:f')
        self.assertEqual(report.relative('/elsewhere/x.c:f', '/t'), '/elsewhere/x.c:f')


class Splice(unittest.TestCase):
    def test_replaces_between_the_markers(self):
        doc = 'head\n%s\nold\n%s\ntail\n' % (report.BEGIN, report.END)
        new = report.splice(doc, 'new\n')
        self.assertEqual(new, 'head\n%s\nnew\n%s\ntail\n' % (report.BEGIN, report.END))
        self.assertEqual(report.splice(new, 'new\n'), new)

    def test_appends_when_there_are_none(self):
        new = report.splice('text\n', 'part\n')
        self.assertEqual(new, 'text\n\n%s\npart\n%s\n' % (report.BEGIN, report.END))


class Document(unittest.TestCase):
    def test_same_sections_and_tables_as_the_document(self):
        # The generated part keeps the shape docs/FOOTPRINT.md has: the same
        # headings and table headers in the same order.
        g = stack.load_callgraph(sorted(glob.glob(os.path.join(sizedata.DATA, '*', '*.ci'))))
        st = stack.report(g, binutils.disassembly(sizedata.read('client.dis')),
                          [n for n in sizedata.read('api.txt').split('\n') if n])
        p = real_profile()
        reps = {'minimal': p, 'full': p, 'mime-lean': p, 'min+DSN': p}
        # The NetX Duo comparison (netx.py), measured when its sources exist.
        side = {'groups': {g: {k: 1 for k in KINDS} for g in netx.GROUPS}, 'sizeof': 1}
        part = report.markdown({
            'tree': 'abc1234', 'cc': 'arm-none-eabi-gcc 12', 'verdicts': ['ok   x 1 < 2'],
            'reports': reps, 'stacks': {'minimal': st, 'full': st}, 'leftovers': {},
            'biggest': [('minimal', 'engine', [(10, 'f', 'T')])],
            'port': {'text': 1, 'rodata': 2, 'data': 0, 'bss': 0}, 'features': ['DSN'],
            'root': sizedata.DATA_TREE, 'netx': {'smtpc': side, 'original': side}})
        with open(os.path.join(sizedata.ROOT, 'docs', 'FOOTPRINT.md')) as f:
            doc = f.read()
        doc = doc[doc.index(report.BEGIN):doc.index(report.END)]

        def shape(text):
            lines = text.split('\n')
            return [l for i, l in enumerate(lines) if l.startswith('###') or
                    (i + 1 < len(lines) and lines[i + 1].startswith('|---'))]
        self.assertEqual(shape(part), shape(doc))
        self.assertNotIn(sizedata.DATA_TREE + '/', part)
        self.assertTrue(part.startswith('Measured by `scripts/size.sh` (`make size`) on tree '
                                        'abc1234 with arm-none-eabi-gcc 12.\n'))
        self.assertRegex(part, r'\n\| DSN \| \d+ \| \+0 \|\n')


if __name__ == '__main__':
    unittest.main()
