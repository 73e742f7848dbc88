"""scripts/size.sh [--out DIR] [--doc FILE] [--check] [--features] [-q]

smtpc's footprint on a Cortex-M4, as a firmware links it.

  --out DIR    work directory (default: build-size/), wiped first
  --doc FILE   rewrite the generated part of FILE (docs/FOOTPRINT.md)
  --check      exit 1 when a budget (scripts/size/budgets.json) is missed
  --features   also measure what each feature adds to the minimal profile
  -q           print only the verdict lines

Exit 0, 1 (a budget missed, or a build failed), 2 (usage) or 77 (no
arm-none-eabi-gcc).  CROSS (default arm-none-eabi-) is the tools' prefix.
docs/FOOTPRINT.md, "How it is measured", says what is built and counted.
"""
import argparse
import os
import shutil
import subprocess
import sys

from size import binutils, budgets, build, measure, netx, report, sources

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Parser(argparse.ArgumentParser):
    def format_help(self):
        return __doc__

    def format_usage(self):
        return 'usage: ' + __doc__.split('\n')[0] + '\n'


def tree_revision(root):
    """The commit measured, '+changes' when src/, include/ or ports/
    differ from it."""
    try:
        rev = subprocess.run(['git', '-C', root, 'rev-parse', '--short', 'HEAD'],
                             capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'
    clean = subprocess.run(['git', '-C', root, 'diff', '--quiet', 'HEAD', '--',
                            'src', 'include', 'ports']).returncode == 0
    return rev if clean else rev + '+changes'


def main(argv):
    p = Parser(prog='size.sh', add_help=True)
    p.add_argument('--out', default=os.path.join(ROOT, 'build-size'))
    p.add_argument('--doc')
    p.add_argument('--check', action='store_true')
    p.add_argument('--features', action='store_true')
    p.add_argument('-q', dest='quiet', action='store_true')
    args = p.parse_args(argv)

    tc = build.Toolchain(os.environ.get('CROSS', 'arm-none-eabi-'))
    if shutil.which(tc.tool('gcc')) is None:
        print('size.sh: %s not found (Debian: apt-get install gcc-arm-none-eabi '
              'libnewlib-arm-none-eabi)' % tc.tool('gcc'), file=sys.stderr)
        return 77
    limits = budgets.load()
    out = os.path.abspath(args.out)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)

    cc_version = tc.run('gcc', ['--version']).split('\n')[0]
    if not args.quiet:
        print('size.sh: building the minimal and full profiles with %s (%s)'
              % (tc.run('gcc', ['-dumpversion']).strip(), tc.tool('gcc')))
    features = sources.features(ROOT) if args.features else []
    profiles = [('minimal', ['SMTPC_PROFILE_MINIMAL=1']), ('full', [])]
    # The lean MIME writer on the minimal engine: what a firmware that mails
    # attachments links (report.MIME_PROFILES).
    profiles += [('mime-lean', ['SMTPC_PROFILE_MINIMAL=1', 'SMTPC_WITH_MIME=1',
                                'SMTPC_MIME_LEAN=1'])]
    profiles += [('min+' + f, ['SMTPC_PROFILE_MINIMAL=1', 'SMTPC_WITH_%s=1' % f])
                 for f in features]
    build.write_generated(ROOT, os.path.join(out, 'gen'))
    for name, defines in profiles:
        try:
            build.build(tc, ROOT, out, name, defines)
        except build.BuildError:
            print('size.sh: the %s build failed:' % name, file=sys.stderr)
            text = ''
            for f in ('warnings.txt', 'link.txt'):
                path = os.path.join(out, name, f)
                if os.path.exists(path):
                    with open(path) as fh:
                        text += fh.read()
            print('\n'.join(text.split('\n')[:40]), file=sys.stderr)
            return 1
    port = build.build_port(tc, ROOT, out)
    try:
        netx_sizes = netx.measure(tc, ROOT, out)
    except build.BuildError as e:
        print('size.sh: the NetX Duo comparison failed to build (see %s)' % e, file=sys.stderr)
        return 1

    reports = {name: measure.profile(out, name) for name, _ in profiles}
    stacks = {name: measure.stacks(out, name) for name in ('minimal', 'full')}
    verdicts, leftovers = budgets.evaluate(limits, reports, stacks, netx_sizes)
    # The lean MIME writer in full (its every function), for what it would
    # take to bring it nearer its goal (docs/FOOTPRINT.md).
    biggest = [(cfg, layer, measure.biggest(tc, out, cfg, img, layer, n, reports[cfg]['nm']))
               for cfg, img, layer, n in (('minimal', 'client', 'engine', 10),
                                          ('minimal', 'client', 'client', 10),
                                          ('full', 'engine', 'engine', 10),
                                          ('mime-lean', 'mime', 'mime', 100))]
    part = report.markdown({
        'tree': tree_revision(ROOT), 'cc': cc_version, 'verdicts': verdicts,
        'reports': reports, 'stacks': stacks, 'leftovers': leftovers, 'biggest': biggest,
        'port': binutils.object_sections(port) if port else None,
        'features': features, 'root': ROOT, 'netx': netx_sizes})
    with open(os.path.join(out, 'FOOTPRINT.part.md'), 'w') as f:
        f.write(part)
    print('\n'.join(verdicts) if args.quiet else part)
    if args.doc:
        text = ''
        if os.path.exists(args.doc):
            with open(args.doc) as f:
                text = f.read()
        with open(args.doc, 'w') as f:
            f.write(report.splice(text, part))
        print('size.sh: wrote ' + args.doc)
    missed = budgets.missed(verdicts)
    if args.check and missed:
        print('size.sh: %d budget(s) missed' % len(missed), file=sys.stderr)
        return 1
    return 0
