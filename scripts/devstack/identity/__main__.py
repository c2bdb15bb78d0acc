import sys

from scripts.devstack.identity import main

sys.exit(main(sys.argv[1:]))
