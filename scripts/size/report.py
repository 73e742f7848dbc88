"""The Markdown of docs/FOOTPRINT.md's generated part, and its splicing
into the document between the two markers."""
from size import netx
from size.mapfile import KINDS

BEGIN, END = '<!-- size.sh: begin -->', '<!-- size.sh: end -->'
PROFILES = (('minimal', 'Minimal profile (`-DSMTPC_PROFILE_MINIMAL=1`)'),
            ('full', 'Full profile (default)'))
# The image tables: each image with the layers linked into it.
IMAGE_LAYERS = (('engine', ['engine']), ('client', ['engine', 'client']),
                ('compat', ['engine', 'client', 'compat']))
STRUCTS = ('smtpc_session', 'smtpc_client', 'smtpc_rcpt', 'NX_SMTP_CLIENT')
STACK_ROWS = 12
# The profiles whose `mime` image is shown, and what each one holds.
MIME_PROFILES = (
    ('full', 'full (default)', 'everything in smtpc/mime.h: text, html, inline parts '
     '(multipart/alternative, multipart/related), attachments, display names, RFC 2231 '
     'file names'),
    ('mime-lean', '`-DSMTPC_MIME_LEAN=1`',
     'text/plain and attachments (multipart/mixed), quoted-printable for text and base64 '
     'for the rest, RFC 2047 Subject and custom fields, folding, bare addresses, ASCII '
     'file names; on the minimal engine, so no size in advance and no 8BITMIME or '
     'SMTPUTF8'))


def image_rows(r, img, layers):
    """Rows of one image: its smtpc layers, their sum when more than one,
    libc+libgcc, the image total, and the ELF's own section sizes when the
    map's attribution does not add up to them."""
    s = r['images'][img]
    lines = []
    for l in layers:
        v = [s.by_layer[(l, k)] for k in KINDS]
        lines.append('| %s | %s | %d | %d | %d | %d | %d |' % (img, l, v[0], v[1], v[2], v[3],
                                                             v[0] + v[1]))
    if len(layers) > 1:
        cum = [s.get(layers, (k,)) for k in KINDS]
        lines.append('| %s | **%s** | %d | %d | %d | %d | **%d** |' % (
            img, '+'.join(layers), cum[0], cum[1], cum[2], cum[3], cum[0] + cum[1]))
    lib = [s.get(('libc', 'libgcc'), (k,)) for k in KINDS]
    lines.append('| %s | libc+libgcc | %d | %d | %d | %d | %d |' % (
        img, lib[0], lib[1], lib[2], lib[3], lib[0] + lib[1]))
    tot = {k: s.total(k) for k in KINDS}
    lines.append('| %s | image total | %d | %d | %d | %d | %d |' % (
        img, tot['text'], tot['rodata'], tot['data'], tot['bss'], tot['text'] + tot['rodata']))
    elf = r['elf'][img]
    if any(elf[k] != tot[k] for k in KINDS):
        lines.append('| %s | (ELF sections) | %d | %d | %d | %d | |' % (
            img, elf['text'], elf['rodata'], elf['data'], elf['bss']))
    return lines


def file_rows(sizes):
    """Per source file of one image, largest first."""
    rows = []
    for f, v in sorted(sizes.files.items(), key=lambda kv: (-(kv[1]['text'] + kv[1]['rodata']),
                                                           kv[0])):
        rows.append('| %s | %d | %d | %d |' % (f, v['text'], v['rodata'],
                                               v['text'] + v['rodata']))
    return rows


def feature_rows(reports, features):
    """'What each feature adds': the minimal profile's engine+client, each
    feature switched on alone (profile 'min+X'), and the full profile, each
    compared with the minimal profile."""
    def ec(name):
        return reports[name]['images']['client'].get(['engine', 'client'])
    base = ec('minimal')
    rows = ['| (minimal) | %d | |' % base]
    for f in features:
        v = ec('min+' + f)
        rows.append('| %s | %d | %+d |' % (f, v, v - base))
    rows.append('| (full: all of them) | %d | %+d |' % (ec('full'), ec('full') - base))
    return rows


def mime_added(reports, name):
    """Bytes of profile `name`'s `mime` image that the minimal profile's
    `client` image (a firmware's engine and client) does not already hold:
    its code and data but the symbols both images have, same name, type and
    size (the shared engine helpers and C library functions)."""
    s = reports[name]['images']['mime']
    own = s.get([l for l in ('engine', 'client', 'compat', 'mime', 'libc', 'libgcc')])
    base = reports['minimal']['nm']['client']
    shared = sum(v[0] for sym, v in reports[name]['nm']['mime'].items()
                 if v[1] in 'TtRr' and base.get(sym) == v)
    return own - shared


def mime_section(reports):
    """The MIME writer's `mime` image (the writer's public functions but
    smtpc_mime_date and smtpc_mime_body_source, which a firmware links only
    when it calls them) in each of MIME_PROFILES."""
    md = ['', '### The MIME writer', '',
          '`mime` image: `smtpc_mime_init`, `_size`, `_read`, `_done`, `_status` and '
          '`_mail_flags` kept, with what they reach: the writer\'s own code (src/mime), the '
          'engine helpers it shares (base64, the address check) and the C library. '
          '`smtpc_mime_date` (Date from a clock) and `smtpc_mime_body_source` (the blocking '
          'client\'s source) are linked only by a caller that uses them.', '',
          '| MIME profile | holds | src/mime | engine helpers | libc+libgcc | total '
          '| added to the minimal client |', '|---|---|---:|---:|---:|---:|---:|']
    files = []
    for name, label, holds in MIME_PROFILES:
        s = reports[name]['images']['mime']
        own, eng, lib = s.get(['mime']), s.get(['engine']), s.get(['libc', 'libgcc'])
        md.append('| %s | %s | %d | %d | %d | %d | %d |' % (
            label, holds, own, eng, lib, own + eng + lib, mime_added(reports, name)))
        files.append(', '.join('`%s` %d' % (f, v['text'] + v['rodata'])
                               for f, v in sorted(s.files.items(),
                                                  key=lambda kv: -(kv[1]['text'] + kv[1]['rodata']))
                               if f.startswith('mime/')))
    md += ['', '"Added to the minimal client": what a firmware that already links the minimal '
           'engine and client (`client` image) adds by linking the writer too: the image but '
           'the functions both have (same name and size).', '']
    for (name, label, _), line in zip(MIME_PROFILES, files):
        md.append('- %s, per file: %s' % (label, line))
    return md


def relative(name, root):
    """A static function's 'path/file.c:name' with the tree's path left out."""
    prefix = root.rstrip('/') + '/'
    return name[len(prefix):] if name.startswith(prefix) else name


def stack_section(cfg, s, root):
    md = ['', '### Stack, %s profile' % cfg, '',
          'Worst call chain from each public engine function (frames from `-fstack-usage`, '
          'calls from `-fcallgraph-info=su`):', '',
          '| function | worst chain | path (frame bytes) |', '|---|---:|---|']
    for v, n, p in s['rows'][:STACK_ROWS]:
        md.append('| `%s` | %d | %s |' % (n, v, ' > '.join(p)))
    rest = s['rows'][STACK_ROWS:]
    if rest:
        md.append('| %d more | <= %d | |' % (len(rest), rest[0][0]))
    md.append('')
    md.append('Largest engine frames: ' + ', '.join(
        '`%s` %d' % (k.split(':')[-1], v) for v, k in s['engine_frames'][:5]) + '.')
    if s['crows']:
        v, n, p = s['crows'][0]
        md.append('Blocking client: worst chain `%s` %d bytes (%s), plus what the transport\'s '
                  'functions use (an indirect call).' % (n, v, ' > '.join(p)))
    if s['cycles']:
        md.append('Recursion found (counted once): ' +
                  ', '.join(relative(c, root) for c in s['cycles']) + '.')
    if s['nonstatic']:
        md.append('Frames that are not static: ' +
                  ', '.join(relative(c, root) for c in s['nonstatic']) + '.')
    return md


def markdown(m):
    """The generated part.  `m` holds: tree, cc (version line), verdicts,
    reports, stacks, leftovers, biggest [(profile, layer, [(size, name,
    type)])], port (None or {kind: n}), features (list; [] when not
    measured), root, and optionally netx (netx.measure()'s result)."""
    reports = m['reports']
    minimal, full = reports['minimal'], reports['full']
    md = ['Measured by `scripts/size.sh` (`make size`) on tree %s with %s.' % (m['tree'], m['cc']),
          'Flags: `-std=c99 -Os -mthumb -mcpu=cortex-m4 -ffunction-sections -fdata-sections`, '
          'linked with newlib-nano, `-nostartfiles` and `--gc-sections`. Bytes.',
          '', '### Budgets', '', '```']
    md.extend(m['verdicts'])
    md.append('```')
    for cfg, title in PROFILES:
        md += ['', '### %s' % title, '',
               '| image | layer | .text | .rodata | .data | .bss | .text+.rodata |',
               '|---|---|---:|---:|---:|---:|---:|']
        for img, layers in IMAGE_LAYERS:
            md.extend(image_rows(reports[cfg], img, layers))
    md += ['', '### Per file, minimal profile, `client` image', '',
           '| file | .text | .rodata | .text+.rodata |', '|---|---:|---:|---:|']
    md.extend(file_rows(minimal['images']['client']))
    port = m.get('port')
    if port:
        t, r_, d_, b_ = (port[k] for k in KINDS)
        md += ['', '### Ports', '',
               '| port | .text | .rodata | .data | .bss | .text+.rodata |',
               '|---|---:|---:|---:|---:|---:|',
               '| `ports/lwip/smtpc_lwip.c` (NO_SYS=1, `ports/lwip/example/lwipopts.h`; object) '
               '| %d | %d | %d | %d | %d |' % (t, r_, d_, b_, t + r_)]
    if m.get('netx'):
        md.extend(netx.markdown(m['netx']))
    if all(name in reports for name, _, _ in MIME_PROFILES):
        md.extend(mime_section(reports))
    md += ['', '### Structures (sizeof on the target)', '',
           '| struct | minimal | full |', '|---|---:|---:|']
    for s in STRUCTS:
        md.append('| `%s` | %d | %d |' % (s, minimal['sizeof'][s], full['sizeof'][s]))
    md += ['', '`smtpc_client` holds a `smtpc_session`; `NX_SMTP_CLIENT` holds a `smtpc_client`, '
           'the header generator state and the I/O buffer (`NX_SMTP_CLIENT_BUFFER_SIZE`), and '
           'its transport is the host\'s `smtpc_tcp` here (a port sets '
           '`NX_SMTP_CLIENT_TRANSPORT_TYPE`). The caller adds its I/O buffer (at least '
           '`SMTPC_IO_MIN` = %d bytes with the default options) to `smtpc_session`.'
           % full['sizeof']['SMTPC_IO_MIN']]
    for cfg, _ in PROFILES:
        md.extend(stack_section(cfg, m['stacks'][cfg], m['root']))
    md += ['', '### Feature code left in the minimal image', '']
    if not m['leftovers']:
        md.append('None of the feature-only functions checked is linked into the minimal images.')
    else:
        md.append('Code that serves only a feature the minimal profile turns off, yet is '
                  'linked into its `engine` or `client` image (functions, or command text '
                  'that only that feature writes):')
        md.append('')
        for feat, hits in m['leftovers'].items():
            md.append('- %s: %s' % (feat, ', '.join(hits)))
    md += ['', '### Largest functions', '']
    for cfg, layer, syms in m['biggest']:
        md.append('- %s %s: ' % (cfg, layer) + ', '.join('`%s` %d' % (n, s) for s, n, _ in syms))
    if m['features']:
        md += ['', '### What each feature adds to the minimal profile', '',
               'Engine + client, `client` image, .text+.rodata; the minimal profile with one '
               'feature switched on (`-DSMTPC_WITH_<X>=1`), compared with the minimal profile:',
               '', '| feature | engine+client | added |', '|---|---:|---:|']
        md.extend(feature_rows(reports, m['features']))
    return '\n'.join(md) + '\n'


def splice(doc, part):
    """`doc` with the text between the markers replaced by `part`, or the
    markers and `part` appended when it has none."""
    if BEGIN in doc and END in doc:
        return doc[:doc.index(BEGIN) + len(BEGIN)] + '\n' + part + doc[doc.index(END):]
    return doc + '\n' + BEGIN + '\n' + part + END + '\n'
