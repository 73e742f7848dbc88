"""The budgets (budgets.json) and the verdict on a set of measurements.

A verdict is one line, 'ok   <what> <measured> < <limit>' or 'MISS ...';
--check fails when any line is MISS.  The lines are the "Budgets" block
of docs/FOOTPRINT.md."""
import json
import os

from size import features, netx

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'budgets.json')
NUMERIC = ('code', 'sizeof', 'stack')
CHECKS = NUMERIC + ('no_heap', 'feature_code', 'netx_ratio')
OK, MISS, SKIP = 'ok  ', 'MISS', 'skip'


def validate(data):
    """The list of budgets of budgets.json's parsed `data`; ValueError
    names the first thing wrong with it."""
    if not isinstance(data, dict) or not isinstance(data.get('budgets'), list):
        raise ValueError('budgets: no "budgets" list')
    for i, b in enumerate(data['budgets']):
        where = 'budget %d (%s)' % (i, b.get('check') if isinstance(b, dict) else b)
        if not isinstance(b, dict) or b.get('check') not in CHECKS:
            raise ValueError('%s: "check" is not one of %s' % (where, ', '.join(CHECKS)))
        need = {'code': ('name', 'profile', 'image', 'layers'), 'sizeof': ('struct', 'profiles'),
                'stack': ('profiles',), 'no_heap': ('profiles', 'forbidden'),
                'feature_code': ('profile', 'images', 'symbols', 'strings'),
                'netx_ratio': ('at_most',)}[b['check']]
        for k in need:
            if k not in b:
                raise ValueError('%s: no "%s"' % (where, k))
        if b['check'] in NUMERIC:
            limits = [k for k in ('at_most', 'below') if k in b]
            if len(limits) != 1 or not isinstance(b[limits[0]], int) or b[limits[0]] <= 0:
                raise ValueError('%s: needs one positive "at_most" or "below"' % where)
        if b['check'] == 'netx_ratio' and (isinstance(b['at_most'], bool) or
                                           not isinstance(b['at_most'], (int, float)) or
                                           b['at_most'] <= 0):
            raise ValueError('%s: "at_most" is not a positive ratio' % where)
    return data['budgets']


def load(path=PATH):
    with open(path) as f:
        return validate(json.load(f))


def limit(b):
    """(operator, limit) of a numeric budget."""
    return ('<=', b['at_most']) if 'at_most' in b else ('<', b['below'])


def passes(b, value):
    op, lim = limit(b)
    return value <= lim if op == '<=' else value < lim


def _numeric(b, what, value):
    op, lim = limit(b)
    return '%s %-58s %6d %s %d' % (OK if passes(b, value) else MISS, what, value, op, lim)


def _text(good, what, detail):
    return '%s %-58s %s' % (OK if good else MISS, what, detail)


def heap_users(forbidden, profile, report):
    """What of `forbidden` a profile's layer objects reference or its
    images define."""
    bad = []
    forbidden = set(forbidden)
    for layer, und in sorted(report['undef'].items()):
        hit = sorted(set(und) & forbidden)
        if hit:
            bad.append('%s/%s: %s' % (profile, layer, ' '.join(hit)))
    for img in sorted(report['nm']):
        hit = sorted(s for s in report['nm'][img] if s in forbidden)
        if hit:
            bad.append('%s %s image defines %s' % (profile, img, ' '.join(hit)))
    return bad


def feature_leftovers(b, reports):
    r = reports[b['profile']]
    return features.leftovers(b['symbols'], b['strings'],
                              [r['nm'][i] for i in b['images']],
                              b''.join(r['rodata'][i] for i in b['images']))


def ratio_line(b, sizes):
    """The verdict on smtpc's size over NetX Duo's own client (netx.py),
    all sections; 'skip' (neither ok nor MISS) when `sizes` is None, i.e.
    the NetX Duo sources were not found."""
    what = 'smtpc on NetX Duo / NetX Duo SMTP client, all sections'
    if sizes is None:
        return '%s %-58s %s' % (SKIP, what, 'no ThreadX/NetX Duo sources')
    a, o = netx.total(sizes['smtpc']), netx.total(sizes['original'])
    ratio = float(a) / o if o else float('inf')
    # Compared in bytes, so that the verdict matches the figures printed.
    good = o > 0 and a <= b['at_most'] * o
    return '%s %-58s %5.2fx <= %.2fx' % (OK if good else MISS, what, ratio, b['at_most'])


def evaluate(budgets, reports, stacks, netx_sizes=None):
    """(verdict lines, feature leftovers) of the measurements:
    reports[profile] as measure.profile() makes it, stacks[profile] as
    stack.report() makes it, netx_sizes as netx.measure() returns it (None:
    no NetX Duo sources, the ratio is skipped).  Leftovers are {} when no
    feature_code budget is set."""
    lines, left = [], {}
    for b in budgets:
        c = b['check']
        if c == 'code':
            v = reports[b['profile']]['images'][b['image']].get(b['layers'])
            lines.append(_numeric(b, b['name'], v))
        elif c == 'sizeof':
            for p in b['profiles']:
                lines.append(_numeric(b, 'sizeof(%s), %s' % (b['struct'], p),
                                      reports[p]['sizeof'][b['struct']]))
        elif c == 'stack':
            for p in b['profiles']:
                v, fn = stacks[p]['rows'][0][:2]
                lines.append(_numeric(b, 'peak stack of an engine call, %s (%s)' % (p, fn), v))
        elif c == 'no_heap':
            bad = []
            for p in b['profiles']:
                bad += heap_users(b['forbidden'], p, reports[p])
            lines.append(_text(not bad, 'zero heap, no stdio (cross objects and images)',
                               '; '.join(bad) if bad else 'none referenced'))
        elif c == 'feature_code':
            left = feature_leftovers(b, reports)
            lines.append(_text(not left, '%s profile links no code of the features it turns off'
                               % b['profile'],
                               'left: ' + ', '.join(sorted(left)) if left else 'none found'))
        elif c == 'netx_ratio':
            lines.append(ratio_line(b, netx_sizes))
    return lines, left


def verdict_count(budgets):
    """How many verdict lines evaluate() gives: one per budget, and one per
    profile for those checked in each profile."""
    return sum(len(b['profiles']) if b['check'] in ('sizeof', 'stack') else 1 for b in budgets)


def missed(lines):
    return [l for l in lines if l.startswith(MISS)]
