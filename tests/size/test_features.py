"""Feature code left in an image (scripts/size/features.py) and the rules
of budgets.json."""
import unittest

import sizedata
from size import binutils, budgets, features


class Leftovers(unittest.TestCase):
    def test_names_and_clones(self):
        nm = {'has_8bit.isra.0': (30, 't'), 'has_8bitx': (4, 't'), 'chunk_open': (54, 't')}
        got = features.leftovers({'SMTPUTF8': ['has_8bit'], 'DSN': ['notify_valid']}, {},
                                 [nm], b'')
        self.assertEqual(got, {'SMTPUTF8': ['`has_8bit.isra.0` (30 bytes)']})

    def test_strings(self):
        got = features.leftovers({}, {'XOAUTH2': ['\x01host='], 'DSN': [' NOTIFY=']}, [],
                                 b'user=\x01host=\x00')
        self.assertEqual(got, {'XOAUTH2': ['string "^Ahost="']})

    def test_nothing(self):
        self.assertEqual(features.leftovers({'A': ['f']}, {'A': ['x']}, [{}], b''), {})

    def test_every_rule_finds_its_feature_where_it_is_linked(self):
        # The full profile's client image links every feature: each rule
        # of budgets.json must see its feature there, or it could not see
        # it in the minimal profile either.
        rule = next(b for b in budgets.load() if b['check'] == 'feature_code')
        nm = binutils.nm_sizes(sizedata.read('client.nm'))
        rodata = sizedata.read('client.rodata.bin', 'rb')
        found = features.leftovers(rule['symbols'], rule['strings'], [nm], rodata)
        self.assertEqual(sorted(found), sorted(set(rule['symbols']) | set(rule['strings'])))


if __name__ == '__main__':
    unittest.main()
