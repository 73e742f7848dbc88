"""Entry point: python3 -m size (scripts/size.sh sets the path)."""
import sys

from size.main import main

sys.exit(main(sys.argv[1:]))
