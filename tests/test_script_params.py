"""Every node script's inputs are its parameter dataclass's fields, and every one of them is checked.

The dataclasses in ``cluster/plan/steps.py`` say which ``ZTC_*`` variables a
script receives; the script is the other half of that contract. Read as
text: every ``ZTC_*`` variable a script reads is declared in its dataclass (or
is lib.sh's and load.sh's own, or one every command sets: node, generation,
program, step); a script gives none of its own variables the input prefix;
and each declared input is read and checked, by ``ztc_check`` or by a
``ztc_die`` that names it, before anything trusts it.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from cluster.plan.steps import SCRIPTS, ScriptParams

#: Set on every command's stdin (``StepScript.text``) or by the program's header, never a script's own input.
FRAME = {"ZTC_NODE", "ZTC_GENERATION", "ZTC_PROGRAM", "ZTC_STEP"}
LIBRARY = ("lib", "load")
READ = re.compile(r"\$\{?(ZTC_[A-Z0-9_]+)")
ASSIGNED = re.compile(r"(?<![\w$\{])(ZTC_[A-Z0-9_]+)=")


def _text(name: str) -> str:
    return (SCRIPTS / f"{name}.sh").read_text(encoding="utf-8")


def _code(name: str) -> str:
    """The script without comment lines (they document inputs; they read nothing)."""
    return "".join(line for line in _text(name).splitlines(keepends=True) if not line.lstrip().startswith("#"))


def _params() -> dict[str, list[type[ScriptParams]]]:
    found: dict[str, list[type[ScriptParams]]] = {}
    todo = list(ScriptParams.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if "SCRIPT" in vars(cls):
            found.setdefault(cls.SCRIPT, []).append(cls)
    return found


PARAMS = _params()
#: lib.sh's and load.sh's own variables: the library's state, not anyone's input.
OWN = {name for lib in LIBRARY for name in ASSIGNED.findall(_code(lib))}


def declared(script: str) -> set[str]:
    return {f.metadata["var"] for cls in PARAMS[script] for f in fields(cls)}


def test_every_script_has_a_parameter_dataclass() -> None:
    scripts = {p.stem for p in Path(SCRIPTS).glob("*.sh")} - set(LIBRARY)
    assert set(PARAMS) == scripts
    assert {"ZTC_TMP", "ZTC_STATE_DIR", "ZTC_TEXT"} <= OWN, "the library's variables are found"


@pytest.mark.parametrize("script", sorted(PARAMS))
def test_a_script_reads_only_inputs_its_dataclass_declares(script: str) -> None:
    code = _code(script)
    assert set(READ.findall(code)) - declared(script) - FRAME - OWN == set()
    # Its own constants and scratch variables do not look like inputs.
    assert set(ASSIGNED.findall(code)) - {"ZTC_STEP"} - OWN == set()


@pytest.mark.parametrize("script", sorted(PARAMS))
def test_every_declared_input_is_read_and_checked(script: str) -> None:
    code = _code(script)
    for var in sorted(declared(script) - FRAME):
        assert var in READ.findall(code), f"{script}.sh never reads {var}"
        checked = re.compile(rf'^.*\bztc_check\b.*"\${var}"|^.*\bztc_die\b.*(?<![$\{{]){var}\b', re.M)
        assert checked.search(code), f"{script}.sh does not check {var} (ztc_check, or a ztc_die naming it)"
