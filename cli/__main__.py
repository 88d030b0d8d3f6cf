import sys

from cli.main import main, missing_dependency

try:
    status = main()
except ModuleNotFoundError as error:  # `python3 -m cli` with a Python that lacks the project's dependencies
    status = missing_dependency(error)
sys.exit(status)
