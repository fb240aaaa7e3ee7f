"""The stack file as render and status read it: YAML 1.1 surprises, dedented keys, namespaces, plain secrets.

Every case is refused with a literal message naming the text as written and the fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.config.stackfile import project_name, read_stack_config
from cluster.config.yamlfile import MAX_BYTES
from cluster.errors import ConfigError, Problem

HEAD = "config:\n  zerotier-cluster:network: {name: n, cidr: 10.147.17.0/24}\n"


def refused(tmp_path: Path, text: str, *, project: bool = True) -> tuple[Problem, ...]:
    if project:
        (tmp_path / "Pulumi.yaml").write_text("name: zerotier-cluster\nruntime: python\n")
    (tmp_path / "Pulumi.t.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        read_stack_config(tmp_path, "t")
    return err.value.problems


QUOTE = "quote it ('{0}') if you mean that text; a number is plain decimal digits, a flag true or false"


@pytest.mark.parametrize(
    ("text", "key", "message", "fix"),
    [
        (
            "config:\n  zerotier-cluster:network: {name: on, cidr: 10.147.17.0/24}\n",
            "zerotier-cluster:network.name",
            "'on' (line 2 of Pulumi.t.yaml) is read by YAML 1.1 as true, not as written",
            QUOTE.format("on"),
        ),
        (
            HEAD + "  zerotier-cluster:nodes:\n    - {name: h, host: 192.0.2.1, generation: 1:30}\n",
            "zerotier-cluster:nodes[0].generation",
            "'1:30' (line 4 of Pulumi.t.yaml) is read by YAML 1.1 as the number 90, not as written",
            QUOTE.format("1:30"),
        ),
        (
            HEAD + "  zerotier-cluster:devices:\n    - {name: d, address: a1b2c3d4e5, description: 2024-01-01}\n",
            "zerotier-cluster:devices[0].description",
            "'2024-01-01' (line 4 of Pulumi.t.yaml) is read by YAML 1.1 as a date, not as written",
            QUOTE.format("2024-01-01"),
        ),
        (
            HEAD + "  zerotier-cluster:ssh: {user: u, port: 010}\n",
            "zerotier-cluster:ssh.port",
            "'010' (line 3 of Pulumi.t.yaml) is read by YAML 1.1 as the number 8, not as written",
            QUOTE.format("010"),
        ),
        (
            HEAD + "zerotier-cluster:nodes: []\n",
            "Pulumi.t.yaml: zerotier-cluster:nodes",
            "is outside config: (dedented), so Pulumi ignores it",
            "indent it under config: like the other settings",
        ),
        (
            HEAD + "nodes: []\n",
            "Pulumi.t.yaml: nodes",
            "is not a stack file key (Pulumi reads config, secretsprovider, encryptedkey, encryptionsalt, environment)",
            "remove it, or indent it under config: if it is a setting",
        ),
        (
            HEAD + "  zerotier:nodes: []\n",
            "zerotier:nodes",
            "is a setting of this program in the ZeroTier provider's namespace 'zerotier'",
            "write it as zerotier-cluster:nodes",
        ),
        (
            HEAD + "  zerotier:zerotierCentralToken: abc\n",
            "zerotier:zerotierCentralToken",
            "is in plain text in the stack file (anyone who reads the repository can control the network)",
            "remove it, revoke it at my.zerotier.com, and run "
            "`pulumi config set --secret zerotier:zerotierCentralToken`",
        ),
    ],
)
def test_stack_file_surprises_are_named_as_written(tmp_path: Path, text: str, key: str, message: str, fix: str) -> None:
    assert refused(tmp_path, text) == (Problem(key, message, fix),)


def test_a_secure_token_and_other_namespaces_pass(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.t.yaml").write_text(
        HEAD + "  zerotier:zerotierCentralToken: {secure: v1:abc}\n  aws:region: on\n"
        "  zerotier-cluster:ssh: {user: u, port: 22}\nsecretsprovider: passphrase\n"
    )
    assert read_stack_config(tmp_path, "t") == {
        "network": {"name": "n", "cidr": "10.147.17.0/24"},
        "ssh": {"user": "u", "port": 22},
    }


def test_a_missing_stack_file_says_which_fix_applies(tmp_path: Path) -> None:
    (problem,) = _missing(tmp_path, project=False)
    assert problem.fix == (
        f"pass --project DIR, the directory holding Pulumi.yaml and Pulumi.t.yaml ({tmp_path} has no Pulumi.yaml)"
    )
    (problem,) = _missing(tmp_path, project=True)
    assert problem.key == str(tmp_path / "Pulumi.t.yaml"), "the path: it may not be where the operator thinks"
    assert problem.message == "cannot read Pulumi.t.yaml: No such file or directory"
    assert problem.fix == f"create the stack with `pulumi stack init t` (in {tmp_path})"


def _missing(tmp_path: Path, *, project: bool) -> tuple[Problem, ...]:
    if project:
        (tmp_path / "Pulumi.yaml").write_text("name: zerotier-cluster\n")
    with pytest.raises(ConfigError) as err:
        read_stack_config(tmp_path, "t")
    return err.value.problems


def test_a_too_large_stack_file_points_at_an_inventory(tmp_path: Path) -> None:
    (problem,) = refused(tmp_path, "# " + "x" * (4 * 1024 * 1024) + "\n")
    assert (problem.message, problem.fix) == (
        "Pulumi.t.yaml is larger than 4 MiB",
        "move the nodes into an inventory file (zerotier-cluster:inventory: inventory.yaml, which may hold "
        "10,000 hosts) and keep the stack file to settings",
    )


def test_the_program_refuses_what_render_refuses_in_the_stack_file(tmp_path: Path) -> None:
    """The engine would hand the program "on" as text; the file shows it was unquoted, and both refuse it."""
    import json

    from cluster.declare.program import build
    from tests.mockrun import run_program

    (tmp_path / "Pulumi.yaml").write_text("name: zerotier-cluster\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  zerotier-cluster:network: {name: on, cidr: 10.147.17.0/24}\n"
        "  zerotier-cluster:nodes: [{name: head, role: head, host: 192.0.2.1, user: u}]\n"
    )
    config = {
        "zerotier-cluster:network": json.dumps({"name": "on", "cidr": "10.147.17.0/24"}),
        "zerotier-cluster:nodes": json.dumps([{"name": "head", "role": "head", "host": "192.0.2.1", "user": "u"}]),
    }
    with pytest.raises(Exception, match="quote it") as err:  # the engine wraps the ConfigError
        run_program(config, [], program=lambda: build(tmp_path))
    assert (
        "zerotier-cluster:network.name: 'on' (line 2 of Pulumi.dev.yaml) is read by YAML 1.1 as true, not as written"
    ) in str(err.value)


def test_the_project_name_comes_from_pulumi_yaml_and_defaults_to_the_namespace(tmp_path: Path) -> None:
    """What status looks the stack's URNs up under (``--project``)."""
    assert project_name(tmp_path) == "zerotier-cluster", "no Pulumi.yaml: the config namespace"
    (tmp_path / "Pulumi.yaml").write_text("name: hpc-overlay\nruntime: python\n")
    assert project_name(tmp_path) == "hpc-overlay"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("runtime: python\n", "Pulumi.yaml: name: is missing\n    fix: name the project (name: ...)"),
        ("name: ''\n", "Pulumi.yaml: name: is missing\n    fix: name the project (name: ...)"),
        ("name: 12\n", "Pulumi.yaml: name: is missing\n    fix: name the project (name: ...)"),
        ("- a list\n", "Pulumi.yaml: name: is missing\n    fix: name the project (name: ...)"),
    ],
)
def test_a_project_without_a_name_is_refused(tmp_path: Path, text: str, shown: str) -> None:
    (tmp_path / "Pulumi.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        project_name(tmp_path)
    assert [str(p) for p in err.value.problems] == [shown]


def test_a_project_file_that_is_not_yaml_is_refused_naming_it(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: [unclosed\n")
    with pytest.raises(ConfigError) as err:
        project_name(tmp_path)
    assert [str(p) for p in err.value.problems] == [
        "Pulumi.yaml: is not valid YAML at line 2, column 1: did not find expected ',' or ']'"
        "\n    fix: fix the YAML there"
    ]


def test_a_project_file_too_large_to_read_is_named_by_its_path(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: x\n" + "#" * MAX_BYTES)
    with pytest.raises(ConfigError) as err:
        project_name(tmp_path)
    (problem,) = err.value.problems
    assert (problem.key, problem.fix) == (str(tmp_path / "Pulumi.yaml"), "give the project a name:")


def test_an_empty_stack_file_holds_no_settings(tmp_path: Path) -> None:
    """What `pulumi stack init` leaves: parse_cluster then names each required key."""
    (tmp_path / "Pulumi.yaml").write_text("name: zerotier-cluster\n")
    (tmp_path / "Pulumi.t.yaml").write_text("")
    assert read_stack_config(tmp_path, "t") == {}
    (tmp_path / "Pulumi.t.yaml").write_text("config:\n")
    assert read_stack_config(tmp_path, "t") == {}


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("- config\n", "Pulumi.t.yaml: is not a stack file (a mapping)\n    fix: start it with config:"),
        (
            "config:\n  - zerotier-cluster:nodes\n",
            "Pulumi.t.yaml: config: must be a mapping of settings\n    fix: write one namespace:key per line",
        ),
    ],
)
def test_a_stack_file_of_the_wrong_shape_is_refused_saying_which(tmp_path: Path, text: str, shown: str) -> None:
    assert [str(p) for p in refused(tmp_path, text)] == [shown]


def test_a_key_with_a_second_colon_is_kept_whole_as_pulumi_reads_it(tmp_path: Path) -> None:
    """``zerotier-cluster:old:nodes`` is the key ``old:nodes`` (Pulumi splits at the first colon), never ``nodes``."""
    (tmp_path / "Pulumi.yaml").write_text("name: zerotier-cluster\n")
    (tmp_path / "Pulumi.t.yaml").write_text("config:\n  zerotier-cluster:old:nodes: []\n")
    assert read_stack_config(tmp_path, "t") == {"old:nodes": []}
