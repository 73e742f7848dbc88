"""The worst call chain (sum of stack frames) from each public function.

Frames come from -fstack-usage and calls from -fcallgraph-info=su (the .ci
files gcc writes next to each object).  Tail calls count as calls, so the
figure is an upper bound.  Functions gcc did not compile here (newlib,
libgcc) are followed in the image's disassembly instead.  A call through a
function pointer (the client's transport) counts 0: what the transport
uses comes on top.
"""
import os
import re

INDIRECT = '__indirect_call'

_NODE = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
_FRAME = re.compile(r'\\n(\d+) bytes \(([^)]*)\)')
_EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')


class CallGraph:
    """frames[fn], quals[fn] ('static', 'dynamic', 'dynamic,bounded'),
    edges[fn] = set of callees, layer[fn] = the layer of the file that
    defines fn.  A static function's name is 'path/file.c:name'."""

    def __init__(self):
        self.frames, self.quals, self.edges, self.layer = {}, {}, {}, {}

    def add(self, text, layer):
        """Add one .ci file's text, compiled from a file of `layer`."""
        for line in text.split('\n'):
            m = _NODE.match(line)
            if m:
                fm = _FRAME.search(m.group(2))
                if fm:
                    title = m.group(1)
                    self.frames[title] = int(fm.group(1))
                    self.quals[title] = fm.group(2)
                    self.layer[title] = layer
                continue
            m = _EDGE.match(line)
            if m:
                self.edges.setdefault(m.group(1), set()).add(m.group(2))


def load_callgraph(paths):
    """CallGraph of .ci files; each file's layer is its directory's name
    (the build puts engine objects in .../engine/)."""
    g = CallGraph()
    for p in paths:
        with open(p) as f:
            g.add(f.read(), os.path.basename(os.path.dirname(p)))
    return g


def short(name):
    """A static function's name without its file."""
    return name.split(':')[-1]


class Analysis:
    """Worst chains over one call graph and one image disassembly."""

    def __init__(self, graph, dis):
        self.g, self.dis = graph, dis
        self.memo, self.path, self.cycles = {}, {}, set()

    def external(self, name, seen=()):
        f = self.dis.get(name)
        if f is None or name in seen:
            return 0
        return f['frame'] + max([self.external(c, seen + (name,)) for c in f['calls']] or [0])

    def depth(self, fn, stack=()):
        """Worst chain from fn; self.path[fn] is that chain, each element
        'name(frame)'.  A recursive call is counted once."""
        if fn in stack:
            self.cycles.add(fn)
            return 0
        if fn in self.memo:
            return self.memo[fn]
        g = self.g
        if fn == INDIRECT:
            self.memo[fn] = 0
            self.path[fn] = ['(indirect call: the transport)']
            return 0
        if fn not in g.frames:
            v = self.external(fn)
            self.memo[fn] = v
            self.path[fn] = ['%s(%d, libc/libgcc)' % (fn, v)]
            return v
        best, bpath = 0, []
        for c in sorted(g.edges.get(fn, ())):
            v = self.depth(c, stack + (fn,))
            if v > best:
                best, bpath = v, self.path.get(c, [c])
        self.memo[fn] = g.frames[fn] + best
        self.path[fn] = ['%s(%d)' % (short(fn), g.frames[fn])] + bpath
        return self.memo[fn]

    def rows(self, names, layer):
        """[(worst chain, name, path)] of the functions in `names` defined
        in `layer`, worst first."""
        g = self.g
        rows = [(self.depth(n), n, self.path[n]) for n in names
                if n in g.frames and g.layer[n] == layer]
        rows.sort(reverse=True)
        return rows


def report(graph, dis, api):
    """The stack figures of one profile: `api` is the list of public
    functions (engine and client)."""
    a = Analysis(graph, dis)
    rows = a.rows(api, 'engine')
    crows = a.rows(api, 'client')

    def frames(layer):
        return sorted(((v, k) for k, v in graph.frames.items() if graph.layer[k] == layer),
                      reverse=True)
    return {'rows': rows, 'crows': crows,
            'engine_frames': frames('engine'), 'client_frames': frames('client'),
            'cycles': sorted(a.cycles),
            'nonstatic': sorted(k for k, q in graph.quals.items() if q != 'static')}
