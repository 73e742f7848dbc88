"""Worst call chains (scripts/size/stack.py)."""
import glob
import os
import re
import unittest

import sizedata
from size import binutils, stack


def graph_of(ci_by_layer):
    g = stack.CallGraph()
    for layer, text in ci_by_layer.items():
        g.add(text, layer)
    return g


def node(title, frame, qual='static'):
    return 'node: { title: "%s" label: "%s\\nf.c:1:1\\n%d bytes (%s)" }\n' % (
        title.split(':')[-1] if ':' not in title else title, title, frame, qual)


def edge(a, b):
    return 'edge: { sourcename: "%s" targetname: "%s" }\n' % (a, b)


class Synthetic(unittest.TestCase):
    def test_worst_path_and_recursion(self):
        ci = (node('api', 16) + node('/t/f.c:a', 32) + node('/t/f.c:b', 8) +
              node('leaf', 100, 'dynamic') +
              edge('api', '/t/f.c:a') + edge('api', '/t/f.c:b') +
              edge('/t/f.c:a', '/t/f.c:b') + edge('/t/f.c:b', '/t/f.c:a') +
              edge('/t/f.c:b', 'memcpy'))
        dis = binutils.disassembly('00008000 <memcpy>:\n    8000:\tb510\tpush\t{r4, lr}\n')
        r = stack.report(graph_of({'engine': ci}), dis, ['api', 'leaf', 'absent'])
        # api > a > b > (a again: counted once) ; b > memcpy(8)
        self.assertEqual(r['rows'][0][:2], (100, 'leaf'))
        v, name, path = r['rows'][1]
        self.assertEqual((v, name), (16 + 32 + 8 + 8, 'api'))
        self.assertEqual(path, ['api(16)', 'a(32)', 'b(8)', 'memcpy(8, libc/libgcc)'])
        self.assertEqual(len(r['rows']), 2, 'a name without a frame has no row')
        self.assertTrue(r['cycles'])
        self.assertEqual(r['nonstatic'], ['leaf'])
        self.assertEqual(r['engine_frames'][0], (100, 'leaf'))

    def test_indirect_call_and_layers(self):
        client = node('run', 40) + edge('run', stack.INDIRECT) + edge('run', 'step')
        engine = node('step', 24)
        r = stack.report(graph_of({'client': client, 'engine': engine}), {}, ['run', 'step'])
        self.assertEqual([x[1] for x in r['rows']], ['step'])
        self.assertEqual(r['crows'], [(64, 'run', ['run(40)', 'step(24)'])])
        a = stack.Analysis(graph_of({'client': client}), {})
        self.assertEqual(a.depth(stack.INDIRECT), 0)


class RealProfile(unittest.TestCase):
    """The full profile's call graphs and image as gcc and ld wrote them."""

    @classmethod
    def setUpClass(cls):
        cls.ci = sorted(glob.glob(os.path.join(sizedata.DATA, '*', '*.ci')))
        cls.g = stack.load_callgraph(cls.ci)
        cls.dis = binutils.disassembly(sizedata.read('client.dis'))
        cls.api = [n for n in sizedata.read('api.txt').split('\n') if n]
        cls.r = stack.report(cls.g, cls.dis, cls.api)

    def test_frames_are_what_fstack_usage_says(self):
        # -fstack-usage (.su) and -fcallgraph-info (.ci) are two outputs of
        # one compilation: the frames read from the call graph must be the
        # .su file's, function for function.
        for ci in self.ci:
            layer = os.path.basename(os.path.dirname(ci))
            su = {}
            with open(ci[:-3] + '.su') as f:
                for line in f:
                    where, size, qual = line.rstrip('\n').split('\t')
                    su[re.sub(r'\.\d+$', '', where.split(':')[-1])] = (int(size), qual)
            # (.su may leave out a clone's number: f.constprop for f.constprop.0)
            ci_frames = {re.sub(r'\.\d+$', '', stack.short(n)): (v, self.g.quals[n]) for n, v in self.g.frames.items()
                         if self.g.layer[n] == layer and n in self._titles(ci)}
            self.assertEqual(ci_frames, su, ci)

    def _titles(self, ci):
        with open(ci) as f:
            return set(re.findall(r'node: \{ title: "([^"]+)" label: "[^"]*\\n\d+ bytes', f.read()))

    def test_every_public_function_has_a_row(self):
        defined = {'engine': set(), 'client': set()}
        for n in self.api:
            if n in self.g.frames:
                defined[self.g.layer[n]].add(n)
        self.assertEqual({x[1] for x in self.r['rows']}, defined['engine'])
        self.assertEqual({x[1] for x in self.r['crows']}, defined['client'])
        self.assertTrue(defined['engine'] and defined['client'])

    def test_each_chain_is_a_real_call_path_and_adds_up(self):
        for v, name, path in self.r['rows'] + self.r['crows']:
            frames = [int(re.search(r'\((\d+)', p).group(1)) for p in path
                      if not p.startswith('(indirect')]
            self.assertEqual(sum(frames), v, name)
            names = [p.split('(')[0] for p in path]
            self.assertEqual(names[0], name)
            for a, b in zip(names, names[1:]):
                callees = set()
                for t, c in self.g.edges.items():
                    if stack.short(t) == a:
                        callees |= {stack.short(x) for x in c}
                if a in self.dis:
                    callees |= self.dis[a]['calls']
                self.assertIn(b, callees, '%s: %s does not call %s' % (name, a, b))

    def test_worst_first_and_at_least_the_own_frame(self):
        values = [x[0] for x in self.r['rows']]
        self.assertEqual(values, sorted(values, reverse=True))
        for v, name, _ in self.r['rows']:
            self.assertGreaterEqual(v, self.g.frames[name])


if __name__ == '__main__':
    unittest.main()
