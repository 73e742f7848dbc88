"""Readers for the text binutils print: size -A, nm, nm -u, objdump -d.

Pure functions of that text; running the tools is build.py's job."""
import re

from size.mapfile import KINDS, kind_of


def elf_sections(size_a):
    """{kind: bytes} of a linked image from `size -A`, the ELF's own count
    of the loaded output sections (the map's attribution must add up to
    it)."""
    tot = {k: 0 for k in KINDS}
    for line in size_a.split('\n'):
        p = line.split()
        if len(p) >= 2 and p[0].startswith('.') and p[1].isdigit():
            k = kind_of(p[0])
            if k:
                tot[k] += int(p[1])
    return tot


def object_sections(size_a):
    """{kind: bytes} of a relocatable object from `size -A`: with
    -ffunction-sections every function is its own .text.NAME section."""
    tot = {k: 0 for k in KINDS}
    for line in size_a.split('\n'):
        p = line.split()
        if len(p) < 2 or not p[1].isdigit():
            continue
        for k in KINDS:
            if p[0] == '.' + k or p[0].startswith('.%s.' % k):
                tot[k] += int(p[1])
    return tot


def nm_sizes(nm_s):
    """{symbol: (size, type letter)} from `nm -S`: symbols without a size
    are left out."""
    res = {}
    for line in nm_s.split('\n'):
        p = line.split()
        if len(p) == 4:
            res[p[3]] = (int(p[1], 16), p[2])
    return res


def nm_undefined(nm_u):
    """Names `nm -u` lists (over one or many objects)."""
    return sorted(set(l.split()[-1] for l in nm_u.split('\n')
                      if l.strip().startswith('U ')))


def nm_defined(nm_text):
    """Names `nm --defined-only` lists."""
    return set(l.split()[-1] for l in nm_text.split('\n')
               if l.strip() and not l.endswith(':'))


def _pushed(args):
    regs = re.search(r'\{([^}]*)\}', args)
    if not regs:
        return 0
    n = 0
    for r in regs.group(1).split(','):
        r = r.strip()
        if '-' in r:
            a, b = r.split('-')
            n += int(b.strip()[1:]) - int(a.strip()[1:]) + 1
        else:
            n += 1
    return 4 * n


def disassembly(text):
    """{function: {'frame': bytes, 'calls': set}} from Thumb `objdump -d`.

    For the functions no -fstack-usage covers (newlib, libgcc): the frame
    is what push/stmdb sp! and sub sp,#n reserve; calls are bl, blx and
    branches to another function (tail calls)."""
    funcs, cur = {}, None
    for line in text.split('\n'):
        m = re.match(r'^[0-9a-f]+ <([^>]+)>:', line)
        if m:
            cur = m.group(1)
            funcs[cur] = {'frame': 0, 'calls': set()}
            continue
        if cur is None or '\t' not in line:
            continue
        f = funcs[cur]
        ins = line.split('\t')
        if len(ins) < 3:
            continue
        op, args = ins[2].strip(), (ins[3].strip() if len(ins) > 3 else '')
        if op.startswith('push') or (op.startswith('stmdb') and args.startswith('sp!')):
            f['frame'] += _pushed(args)
        m = re.match(r'sub(?:\.w)?$', op) and re.match(r'sp,\s*(?:sp,\s*)?#(\d+)', args)
        if m:
            f['frame'] += int(m.group(1))
        if op in ('bl', 'blx') or op.startswith('b.w') or op == 'b':
            t = re.search(r'<([^>+]+)>', args)
            if t and t.group(1) != cur:
                f['calls'].add(t.group(1))
    return funcs
