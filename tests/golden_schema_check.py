#!/usr/bin/env python3
"""Every golden/*.json file validates against golden/schema.json, so the schema people
read and the loader that runs the cases describe the same format. Fails where the
jsonschema package is missing: tools/dev installs it (python3-jsonschema), and a check
that skips itself on a machine set up by hand would be a check that quietly never ran."""
import json
import pathlib
import sys

try:
    import jsonschema
except ImportError:
    print("jsonschema is not installed for " + sys.executable + ": install python3-jsonschema (tools/dev does)")
    sys.exit(1)

golden = pathlib.Path(sys.argv[1])
schema = json.loads((golden / "schema.json").read_text())
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
failed = 0
for path in sorted(golden.glob("*.json")):
    if path.name == "schema.json":
        continue
    for error in validator.iter_errors(json.loads(path.read_text())):
        failed += 1
        print(f"{path.name}: (/{'/'.join(map(str, error.absolute_path))}) {error.message[:200]}")
print(f"{failed} schema violations")
sys.exit(1 if failed else 0)
