import sys

from cli.main import main

sys.exit(main())  # main() itself turns a missing dependency into one line (missing_dependency)
