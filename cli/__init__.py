"""The `tenant-storage` command line: `tenant-storage --help` (or `python -m cli --help`)."""
