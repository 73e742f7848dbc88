"""What is compiled and kept (scripts/size/sources.py), on the real tree."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import sizedata
from size import sources

HEADER = '''
/* smtpc_not_this(void); in a comment */
#define SMTPC_MACRO(x) smtpc_not_either(x)
typedef int (*smtpc_fn_type)(void *ctx);
struct smtpc_ops { int (*send)(void *ctx); };
int smtpc_one(int a);
void smtpc_two(void); // smtpc_nor_this(void)
static inline int smtpc_three(void) { return smtpc_one(3); }
int smtpc_one(int a);
'''


class Functions(unittest.TestCase):
    def test_declarations_only(self):
        self.assertEqual(sources.public_functions(HEADER, 'smtpc_'),
                         ['smtpc_one', 'smtpc_two', 'smtpc_three'])

    def test_feature_switches(self):
        text = ('#ifndef SMTPC_WITH_A\n#define SMTPC_WITH_A SMTPC_FEATURE_DEFAULT\n#endif\n'
                '#ifndef SMTPC_WITH_B\n#define SMTPC_WITH_B 1\n#endif\n'
                '#define SMTPC_WITH_C   SMTPC_FEATURE_DEFAULT\n')
        self.assertEqual(sources.feature_switches(text), ['A', 'C'])

    def test_real_feature_switches(self):
        with open(os.path.join(sizedata.ROOT, 'include', 'smtpc', 'smtpc_config.h')) as f:
            text = f.read()
        found = sources.features(sizedata.ROOT)
        self.assertTrue(found)
        for x in found:
            self.assertIn('#ifndef SMTPC_WITH_%s\n' % x, text)

    def test_core_sources(self):
        for layer in sources.LAYERS:
            files = sources.core_sources(sizedata.ROOT, layer)
            self.assertTrue(files, layer)
            for f in files:
                self.assertTrue(os.path.isfile(f))
                self.assertNotIn('%s/%s' % (layer, os.path.basename(f)), sources.EXCLUDED)


@unittest.skipUnless(shutil.which('cc'), 'no host C compiler')
class Compiles(unittest.TestCase):
    """The generated entry files and probe compile against the real headers
    with the host's compiler: every kept name is a declared function."""

    def compile(self, name, text):
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, name)
            with open(src, 'w') as f:
                f.write(text)
            p = subprocess.run(['cc', '-std=c99', '-Wall', '-Werror', '-c', src,
                                '-o', os.path.join(d, 'x.o'),
                                '-I', os.path.join(sizedata.ROOT, 'include'),
                                '-I', os.path.join(sizedata.ROOT, 'src')],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)

    def test_keep_files(self):
        for image in sources.IMAGES:
            names = sources.image_functions(sizedata.ROOT, image)
            self.assertTrue(names, image)
            text = sources.keep_file(image, names)
            self.assertEqual(len(re.findall(r'\(smtpc_size_fn\)', text)), len(names))
            self.compile('keep_%s.c' % image, text)

    def test_probe(self):
        self.compile('probe.c', sources.PROBE)


if __name__ == '__main__':
    unittest.main()
