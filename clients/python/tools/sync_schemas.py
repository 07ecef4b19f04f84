#!/usr/bin/env python3
"""Copies the message schemas of the checkout (topics/schemas/) into the package (src/spectask_client/schemas/).

topics/schemas/ is the one source of truth; the package ships a byte-for-byte copy so that an installed client
validates exactly what the worker accepts. tests/test_schemas.py fails while the copy is stale; this fixes it:

    python3 clients/python/tools/sync_schemas.py          # copy (and delete files gone from topics/schemas)
    python3 clients/python/tools/sync_schemas.py --check  # exit 1 and list the differences, change nothing
"""

import argparse
import filecmp
import shutil
import sys
from pathlib import Path

CLIENT = Path(__file__).resolve().parent.parent
SOURCE = CLIENT.parent.parent / "topics" / "schemas"
TARGET = CLIENT / "src" / "spectask_client" / "schemas"


def differences(source=SOURCE, target=TARGET):
    """The file names that differ between the two folders: (changed or missing in target, extra in target)."""
    wanted = {path.name for path in source.glob("*.schema.json")}
    present = {path.name for path in target.glob("*.schema.json")}
    changed = sorted(
        name for name in wanted if name not in present or not filecmp.cmp(source / name, target / name, shallow=False)
    )
    return changed, sorted(present - wanted)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report differences (exit 1 when there are any)")
    arguments = parser.parse_args()
    if not SOURCE.is_dir():
        print(f"sync_schemas: no schema folder at {SOURCE} (run this from a spectask checkout)", file=sys.stderr)
        return 2
    changed, extra = differences()
    if arguments.check:
        for name in changed:
            print(f"stale or missing: {name}")
        for name in extra:
            print(f"not in topics/schemas: {name}")
        return 1 if changed or extra else 0
    TARGET.mkdir(parents=True, exist_ok=True)
    for name in changed:
        shutil.copyfile(SOURCE / name, TARGET / name)
    for name in extra:
        (TARGET / name).unlink()
    print(f"sync_schemas: {len(changed)} copied, {len(extra)} removed ({TARGET})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
