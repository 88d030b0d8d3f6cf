"""moto's server with one emulator cost taken out: the deep copy of every version on every listing page.

    .venv/bin/python benchmarks/moto_linear_listing.py -H 127.0.0.1 -p PORT

moto 5's `S3Backend.list_object_versions` (moto/s3/models.py) deep-copies every version of the bucket, with
everything each version holds, for each page of at most 1,000 it returns, so listing a bucket costs pages x
versions: 17,500 versions take 13 pages and about 40 s of deep copies. The copy exists only so that the
listing can set `is_latest` on what it returns; a shallow copy of each version does that with far less work
(a FakeKey's `__getstate__` still copies its body) and leaves the stored versions untouched. Nothing else in
moto changes. S3 itself lists a page in one round trip, so this is
the emulator the restore benchmark times its command against; `--moto-as-is` there runs moto unchanged.
"""

from __future__ import annotations

import inspect
import sys
import textwrap

from moto.s3 import models
from moto.server import main

DEEP = "copy.deepcopy(version_key)"
SHALLOW = "[copy.copy(version) for version in version_key]"


def shallow_version_listing() -> None:
    source = textwrap.dedent(inspect.getsource(models.S3Backend.list_object_versions))
    if source.count(DEEP) != 1:
        sys.exit(f"moto's list_object_versions no longer has one `{DEEP}`: review this patch for the new moto")
    namespace: dict[str, object] = {}
    exec(compile(source.replace(DEEP, SHALLOW), models.__file__, "exec"), vars(models), namespace)  # noqa: S102 - moto's own source
    setattr(models.S3Backend, "list_object_versions", namespace["list_object_versions"])  # noqa: B010


if __name__ == "__main__":
    shallow_version_listing()
    main()
