import sys

from scripts.devstack.stack import main

sys.exit(main(sys.argv[1:]))
