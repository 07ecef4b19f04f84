"""Runs the client's tests with the standard library's runner and ends with one summary line.

python -m tests.run              # unit and integration tests (from clients/python)
python -m tests.run unit         # only the tests that need no broker
python -m tests.run integration  # only the ones against a running system
"""

import sys
import unittest
from pathlib import Path

CLIENT = Path(__file__).resolve().parents[1]
INTEGRATION = "test_integration*.py"


def main(argv):
    which = argv[1] if len(argv) > 1 else "all"
    if which not in ("all", "unit", "integration"):
        print(__doc__, file=sys.stderr)
        return 2
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    tests = str(CLIENT / "tests")
    if which in ("all", "unit"):
        for path in sorted((CLIENT / "tests").glob("test_*.py")):
            if not path.match(INTEGRATION):
                suite.addTest(loader.discover(tests, pattern=path.name, top_level_dir=str(CLIENT)))
    if which in ("all", "integration"):
        suite.addTest(loader.discover(tests, pattern=INTEGRATION, top_level_dir=str(CLIENT)))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = max(0, result.testsRun - failed - skipped)
    print(f"python-client: {passed} passed, {failed} failed, {skipped} skipped")
    return 0 if result.wasSuccessful() and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
