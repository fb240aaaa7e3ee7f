"""The list of deliberate script bugs stays applicable: each text is in its script once, each test exists.

``python3 -m tests.mutants.scripts`` needs root and machines; this runs in
the fast loop, so a script edit that makes an entry stale (its text gone or
doubled) or a renamed test fails here first.
"""

from __future__ import annotations

import re

from tests.mutants.scripts import ROOT, load


def test_every_listed_bug_applies_once_and_names_tests_that_exist() -> None:
    mutants = load()
    assert len(mutants) >= 60
    for m in mutants:
        assert m.file.startswith("cluster/scripts/") and m.file.endswith(".sh"), m.id
        text = (ROOT / m.file).read_text()
        assert text.count(m.find) == 1, f"{m.id}: its text occurs {text.count(m.find)} times in {m.file}"
        assert text.replace(m.find, m.replace) != text, m.id
        for test in m.tests:
            path, _, name = test.partition("::")
            function = name.split("[", 1)[0]
            source = (ROOT / path).read_text()
            assert re.search(rf"^def {re.escape(function)}\(", source, re.M), f"{m.id}: no test {test}"


def test_every_parameter_check_of_every_script_has_a_bug_listed() -> None:
    """Each ``ztc_check`` call in the scripts is disabled by one listed bug (a new check needs its entry)."""
    disabled = {(m.file, m.find) for m in load() if m.replace == f": {m.find}"}
    calls = []
    for script in sorted((ROOT / "cluster" / "scripts").glob("*.sh")):
        for line in script.read_text().splitlines():
            if "ztc_check " in line and not line.lstrip().startswith(("#", "ztc_check()")):
                calls.append((f"cluster/scripts/{script.name}", line))
    assert len(calls) >= 35
    missing = [call for call in calls if not any(f == call[0] and find in call[1] for f, find in disabled)]
    assert missing == []
