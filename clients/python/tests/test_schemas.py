"""The schemas the package ships are the checkout's topics/schemas, byte for byte (one source of truth)."""

import filecmp
import unittest
from importlib import resources
from pathlib import Path

from spectask_client import SchemaSet

CHECKOUT_SCHEMAS = Path(__file__).resolve().parents[3] / "topics" / "schemas"
FIX = "refresh the copy with: python3 clients/python/tools/sync_schemas.py (then reinstall the package)"


class ShippedSchemasTests(unittest.TestCase):
    def test_the_checkout_has_the_schemas(self):
        self.assertTrue(
            (CHECKOUT_SCHEMAS / "common.schema.json").is_file(),
            f"no topics/schemas at {CHECKOUT_SCHEMAS}: run the tests from a spectask checkout",
        )

    def test_the_source_copy_is_current(self):
        copy = Path(__file__).resolve().parents[1] / "src" / "spectask_client" / "schemas"
        self._assert_same(copy, "clients/python/src/spectask_client/schemas")

    def test_the_installed_copy_is_current(self):
        installed = resources.files("spectask_client") / "schemas"
        with resources.as_file(installed) as folder:
            self._assert_same(Path(folder), f"the installed package ({folder})")

    def test_every_schema_loads_and_every_command_has_one(self):
        schemas = SchemaSet.bundled()
        self.assertIn("create", schemas.command_names)
        for name in schemas.command_names:
            schemas.validator(f"spectask.command.{name}")

    def _assert_same(self, copy: Path, label: str):
        wanted = sorted(path.name for path in CHECKOUT_SCHEMAS.glob("*.schema.json"))
        present = sorted(path.name for path in copy.glob("*.schema.json"))
        self.assertEqual(present, wanted, f"{label} has other schema files than topics/schemas; {FIX}")
        stale = [name for name in wanted if not filecmp.cmp(CHECKOUT_SCHEMAS / name, copy / name, shallow=False)]
        self.assertEqual(stale, [], f"{label} is stale; {FIX}")


if __name__ == "__main__":
    unittest.main()
