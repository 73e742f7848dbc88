"""Shared by the tests of scripts/size/: where the tree and the checked-in
data are (tests/data/size/, made by its refresh.py from a real run), and
the package on the path."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, 'tests', 'data', 'size')
# The tree and build directory the data's paths were rewritten to.
DATA_TREE = '/smtpc'
sys.path.insert(0, os.path.join(ROOT, 'scripts'))


def read(name, mode='r'):
    with open(os.path.join(DATA, name), mode) as f:
        return f.read()
