"""The budgets file and the verdicts (scripts/size/budgets.py)."""
import copy
import json
import os
import re
import unittest

import sizedata
from size import budgets, mapfile, netx


def sizes(engine, client):
    s = mapfile.ImageSizes()
    s.by_layer[('engine', 'text')] = engine
    s.by_layer[('client', 'text')] = client
    return s


def profile(engine=0, client=0, session=256, undef=(), nm=None, rodata=b''):
    nm = nm or {}
    return {'images': {i: sizes(engine, client) for i in ('engine', 'client', 'compat')},
            'nm': {i: dict(nm) for i in ('engine', 'client', 'compat')},
            'rodata': {i: rodata for i in ('engine', 'client', 'compat')},
            'sizeof': {'smtpc_session': session},
            'undef': {'engine': list(undef), 'client': [], 'compat': []}}


def stacks(v):
    return {'rows': [(v, 'smtpc_feed', ['smtpc_feed(%d)' % v])]}


RULES = [
    {'check': 'code', 'name': 'minimal engine+client', 'profile': 'minimal', 'image': 'client',
     'layers': ['engine', 'client'], 'at_most': 100},
    {'check': 'code', 'name': 'full engine', 'profile': 'full', 'image': 'engine',
     'layers': ['engine'], 'below': 200},
    {'check': 'sizeof', 'struct': 'smtpc_session', 'profiles': ['minimal', 'full'], 'below': 512},
    {'check': 'stack', 'profiles': ['minimal', 'full'], 'below': 512},
    {'check': 'no_heap', 'profiles': ['minimal', 'full'], 'forbidden': ['malloc', 'printf']},
    {'check': 'feature_code', 'profile': 'minimal', 'images': ['engine', 'client'],
     'symbols': {'DSN': ['notify_valid']}, 'strings': {'CHUNKING': ['BDAT ']}},
]


class Verdicts(unittest.TestCase):
    def run_rules(self, minimal, full, stack_min=100, stack_full=100):
        return budgets.evaluate(RULES, {'minimal': minimal, 'full': full},
                                {'minimal': stacks(stack_min), 'full': stacks(stack_full)})

    def test_all_within(self):
        lines, left = self.run_rules(profile(60, 40), profile(199, 0))
        self.assertEqual(budgets.missed(lines), [])
        self.assertEqual(left, {})
        # one line per budget and profile, in the file's order
        self.assertEqual(len(lines), 1 + 1 + 2 + 2 + 1 + 1)
        self.assertEqual(budgets.verdict_count(RULES), len(lines))
        self.assertRegex(lines[0], r'^ok   minimal engine\+client +100 <= 100$')
        self.assertRegex(lines[1], r'^ok   full engine +199 < 200$')
        self.assertRegex(lines[4], r'^ok   peak stack of an engine call, minimal \(smtpc_feed\)')

    def test_at_most_and_below(self):
        lines, _ = self.run_rules(profile(60, 41), profile(200, 0))
        self.assertEqual([l.split()[0] for l in budgets.missed(lines)], ['MISS', 'MISS'])
        self.assertIn('101 <= 100', lines[0])
        self.assertIn('200 < 200', lines[1])

    def test_sizeof_and_stack(self):
        lines, _ = self.run_rules(profile(session=512), profile(), stack_full=600)
        missed = budgets.missed(lines)
        self.assertEqual(len(missed), 2)
        self.assertIn('sizeof(smtpc_session), minimal', missed[0])
        self.assertIn('peak stack of an engine call, full', missed[1])

    def test_heap(self):
        lines, _ = self.run_rules(profile(undef=['memcpy', 'malloc']),
                                  profile(nm={'printf': (40, 'T')}))
        (miss,) = budgets.missed(lines)
        self.assertIn('minimal/engine: malloc', miss)
        self.assertIn('full client image defines printf', miss)
        self.assertNotIn('memcpy', miss)

    def test_feature_code(self):
        lines, left = self.run_rules(profile(nm={'notify_valid.isra.0': (12, 't')},
                                             rodata=b'MAIL FROM:<\0BDAT \0'), profile())
        (miss,) = budgets.missed(lines)
        self.assertIn('left: CHUNKING, DSN', miss)
        self.assertEqual(left['DSN'], ['`notify_valid.isra.0` (12 bytes)'])
        # feature code in the full profile is not what the budget is about
        lines, left = self.run_rules(profile(), profile(nm={'notify_valid': (12, 't')}))
        self.assertEqual(left, {})


def netx_side(total):
    """netx.measure()'s figures of one side, `total` bytes in all."""
    groups = {g: {'text': 0, 'rodata': 0, 'data': 0, 'bss': 0} for g in netx.GROUPS}
    groups['own']['text'] = total
    return {'groups': groups, 'sizeof': 0}


class NetxRatio(unittest.TestCase):
    RULE = [{'check': 'netx_ratio', 'at_most': 2.0}]

    def lines(self, smtpc, original):
        sizes = None if smtpc is None else {'smtpc': netx_side(smtpc),
                                           'original': netx_side(original)}
        lines, _ = budgets.evaluate(self.RULE, {}, {}, sizes)
        self.assertEqual(len(lines), budgets.verdict_count(self.RULE))
        return lines

    def test_within_at_the_limit_and_over(self):
        (line,) = self.lines(14000, 7133)
        self.assertRegex(line, r'^ok   smtpc on NetX Duo / NetX Duo SMTP client.* 1\.96x <= 2\.00x$')
        (line,) = self.lines(14266, 7133)          # exactly 2x: allowed
        self.assertEqual(budgets.missed([line]), [])
        (line,) = self.lines(14267, 7133)          # one byte more
        self.assertEqual(budgets.missed([line]), [line])
        self.assertIn('2.00x <= 2.00x', line)      # rounded, yet a miss

    def test_skipped_without_the_sources(self):
        (line,) = self.lines(None, None)
        self.assertTrue(line.startswith('skip '), line)
        self.assertEqual(budgets.missed([line]), [])

    def test_validation(self):
        for bad in ({'check': 'netx_ratio'}, {'check': 'netx_ratio', 'at_most': 0},
                    {'check': 'netx_ratio', 'at_most': '2'},
                    {'check': 'netx_ratio', 'at_most': True}):
            with self.assertRaises(ValueError):
                budgets.validate({'budgets': [bad]})
        budgets.validate({'budgets': [{'check': 'netx_ratio', 'at_most': 1.8}]})

    def test_the_file_sets_one(self):
        self.assertEqual([b['at_most'] for b in budgets.load() if b['check'] == 'netx_ratio'],
                         [2.0])


class TheFile(unittest.TestCase):
    def test_loads(self):
        rules = budgets.load()
        self.assertTrue(rules)
        names = [b.get('name') for b in rules if b['check'] == 'code']
        self.assertEqual(len(names), len(set(names)))

    def test_rejects_what_it_cannot_check(self):
        with open(budgets.PATH) as f:
            good = json.load(f)
        code = next(i for i, b in enumerate(good['budgets']) if b['check'] == 'code')

        def broken(change):
            d = copy.deepcopy(good)
            change(d['budgets'][code])
            return d
        for change in (lambda b: b.update(below=5),                 # two limits
                       lambda b: b.pop('at_most', None) or b.pop('below', None),
                       lambda b: b.update(check='speed'),
                       lambda b: b.pop('layers'),
                       lambda b: b.update({'at_most': '9000', 'below': None}) or b.pop('below')):
            with self.assertRaises(ValueError):
                budgets.validate(broken(change))
        with self.assertRaises(ValueError):
            budgets.validate({'limits': []})

    def test_footprint_doc_states_the_same_limits(self):
        # docs/FOOTPRINT.md's "Budgets" table repeats the limits for the
        # reader; it must say what the file says.
        with open(os.path.join(sizedata.ROOT, 'docs', 'FOOTPRINT.md')) as f:
            doc = f.read()
        section = doc[doc.index('\n## Budgets'):]
        section = section[:section.index('\n## ', 1)]
        stated = set(int(n.replace(',', '')) for n in re.findall(r'(?:<=|<|≤) ?([\d,]+) bytes',
                                                                 section))
        for b in budgets.load():
            if b['check'] in budgets.NUMERIC:
                self.assertIn(budgets.limit(b)[1], stated, b)


if __name__ == '__main__':
    unittest.main()
