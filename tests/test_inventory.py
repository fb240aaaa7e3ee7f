"""Inventories read as Ansible reads them: nesting, several groups per host, precedence, legacy names.

And never a host or a variable dropped: what cannot be read is refused, naming the file and the YAML path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cluster.config.parse import parse_cluster
from cluster.errors import ConfigError, Problem
from cluster.spec import ClusterSpec


def spec_of(tmp_path: Path, text: str) -> ClusterSpec:
    (tmp_path / "hosts.yaml").write_text(text)
    raw = {"network": {"name": "n", "cidr": "10.147.17.0/24"}, "inventory": "hosts.yaml"}
    return parse_cluster(raw, base_dir=tmp_path)


def refused(tmp_path: Path, text: str) -> tuple[Problem, ...]:
    with pytest.raises(ConfigError) as err:
        spec_of(tmp_path, text)
    return err.value.problems


def rows(spec: ClusterSpec) -> list[tuple[Any, ...]]:
    return [(n.name, n.role, n.host, n.user, n.port, n.state, n.generation) for n in spec.nodes]


def test_groups_nest_at_any_depth_and_are_one_group_wherever_defined(tmp_path: Path) -> None:
    spec = spec_of(
        tmp_path,
        """
all:
  vars: {ansible_user: ops}
  children:
    site1:
      children:
        head:
          hosts: {h1: {ansible_host: 192.0.2.1}}
        compute:
          children:
            rack1:
              children:
                gpu:
                  hosts: {g1: , g2: }
compute:
  hosts: {c9: }
""",
    )
    assert rows(spec) == [
        ("h1", "head", "192.0.2.1", "ops", 22, "active", 0),
        ("g1", "compute", "g1", "ops", 22, "active", 0),
        ("g2", "compute", "g2", "ops", 22, "active", 0),
        ("c9", "compute", "c9", "ops", 22, "active", 0),
    ]


def test_variables_merge_in_ansible_order(tmp_path: Path) -> None:
    # all < parent < child < host; groups of one depth by name (b after a), unless ansible_group_priority says.
    spec = spec_of(
        tmp_path,
        """
all:
  vars: {ansible_user: fromall, ansible_port: 1001, generation: 1}
head:
  hosts: {h1: }
compute:
  vars: {ansible_user: fromcompute, ansible_port: 1002}
  children:
    rack:
      vars: {ansible_port: 1003}
      hosts:
        c1:
        c2: {ansible_port: 1004}
b_site:
  vars: {generation: 3}
  hosts: {c3: , c4: }
a_site:
  vars: {generation: 2}
  hosts: {c3: , c4: }
prio:
  vars: {generation: 9, ansible_group_priority: 0}
  hosts: {c4: }
compute_extra:
  children:
    compute:
      hosts: {c3: , c4: }
""",
    )
    assert rows(spec) == [
        ("h1", "head", "h1", "fromall", 1001, "active", 1),
        ("c1", "compute", "c1", "fromcompute", 1003, "active", 1),
        ("c2", "compute", "c2", "fromcompute", 1004, "active", 1),
        ("c3", "compute", "c3", "fromcompute", 1002, "active", 3),
        ("c4", "compute", "c4", "fromcompute", 1002, "active", 3),
    ]


def test_legacy_ssh_variables_are_read(tmp_path: Path) -> None:
    spec = spec_of(
        tmp_path,
        """
head:
  hosts:
    h1: {ansible_ssh_host: 192.0.2.1, ansible_ssh_user: admin, ansible_ssh_port: 2201}
compute:
  hosts:
    c1: {ansible_ssh_host: 192.0.2.2, ansible_host: 192.0.2.2, ansible_user: rocky}
""",
    )
    assert rows(spec) == [
        ("h1", "head", "192.0.2.1", "admin", 2201, "active", 0),
        ("c1", "compute", "192.0.2.2", "rocky", 22, "active", 0),
    ]


def test_evicted_in_any_group_applies_whatever_overrides_it(tmp_path: Path) -> None:
    spec = spec_of(
        tmp_path,
        """
all: {vars: {ansible_user: ops}}
head: {hosts: {h1: }}
compute:
  hosts: {c1: , c2: , c3: {state: active}}
  children:
    rack: {vars: {state: active}, hosts: {c2: }}
stolen:
  vars: {state: evicted}
  hosts: {c2: , c3: }
""",
    )
    assert [(n.name, n.state) for n in spec.nodes] == [
        ("h1", "active"),
        ("c1", "active"),
        ("c2", "evicted"),
        ("c3", "evicted"),
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "all: {vars: {ansible_user: ops}}\nhead: {hosts: {h1: }}\ncompute:\n  hosts:\n    c1: {state: Evicted}\n",
            Problem(
                "hosts.yaml: compute.hosts.c1.state",
                "'Evicted' is not one of active, evicted",
                "write evicted (lowercase: the value is case-sensitive)",
            ),
        ),
        (
            "all: {vars: {ansible_user: ops}}\nhead: {hosts: {h1: }}\ncompute:\n  hosts: {c1: }\n"
            "gone:\n  vars: {state: Evicted}\n  hosts: {c1: {state: active}}\n",
            Problem(
                "hosts.yaml: gone.vars.state",
                "'Evicted' is not one of active, evicted",
                "write evicted (lowercase: the value is case-sensitive)",
            ),
        ),
        (
            "all: {vars: {ansible_user: ops}}\nhead: {hosts: {h1: }}\ncompute:\n  hosts:\n    c1: {State: evicted}\n",
            Problem(
                "hosts.yaml: compute.hosts.c1.State",
                "is not a variable this program reads (names are case-sensitive), so it would be ignored",
                "write state",
            ),
        ),
        (
            "all: {vars: {ansible_user: ops}}\nhead: {hosts: {h1: }}\ncompute:\n  hosts:\n    010:\n",
            Problem(
                "hosts.yaml: compute.hosts.010",
                "'010' (line 5 of hosts.yaml) is read by YAML 1.1 as the number 8, not as written",
                "quote it ('010') if you mean that text; a number is plain decimal digits, a flag true or false",
            ),
        ),
        (
            "all: {vars: {ansible_user: ops}}\nhead: {hosts: {h1: }}\ncompute:\n  hosts:\n    on:\n",
            Problem(
                "hosts.yaml: compute.hosts.on",
                "'on' (line 5 of hosts.yaml) is read by YAML 1.1 as true, not as written",
                "quote it ('on') if you mean that text; a number is plain decimal digits, a flag true or false",
            ),
        ),
        (
            "all: {vars: {ansible_user: ops}}\nhead: {hosts: {h1: }}\ncompute:\n  hosts:\n    1234:\n",
            Problem(
                "hosts.yaml: compute.hosts.1234",
                "1234 is read by YAML as int, not as a host name",
                "quote it ('1234') if it is a host name",
            ),
        ),
        (
            "all: {vars: {ansible_user: ops}}\nhead: {hosts: {h1: }}\ncompute:\n  host:\n    c1:\n",
            Problem(
                "hosts.yaml: compute.host",
                "is not a group key Ansible reads, so what is under it would be ignored",
                "use hosts:, vars: or children:",
            ),
        ),
        # a value the node lacks, and a check across nodes, are named as the inventory names them
        (
            "head: {hosts: {h1: {ansible_host: 192.0.2.1}}}\n",
            Problem(
                "hosts.yaml: head.hosts.h1.ansible_user",
                "no login user for this node",
                "set zerotier-cluster:ssh.user or the node's user",
            ),
        ),
        (
            "all: {vars: {ansible_user: ops}}\nhead: {hosts: {h1: {ansible_host: 192.0.2.1}}}\n"
            "compute: {hosts: {c1: {ansible_host: 192.0.2.1}}}\n",
            Problem(
                "hosts.yaml: compute.hosts.c1.ansible_host",
                "192.0.2.1 port 22 is also the SSH target of hosts.yaml: head.hosts.h1",
                "give each node its own host (or port); a machine listed twice would be provisioned twice",
            ),
        ),
        (
            "head: {hosts: {h1: {ansible_user: a, ansible_ssh_user: b}}}\n",
            Problem(
                "hosts.yaml: head.hosts.h1.ansible_ssh_user",
                "says 'b', but ansible_user says 'a' (at head.hosts.h1.ansible_user)",
                "keep one of them (ansible_user is the current name)",
            ),
        ),
        (
            "all: {vars: {ansible_user: ops}}\nhead: {hosts: {h1: }}\ncompute:\n  vars: {generation: 1:30}\n"
            "  hosts: {c1: }\n",
            Problem(
                "hosts.yaml: compute.vars.generation",
                "'1:30' (line 4 of hosts.yaml) is read by YAML 1.1 as the number 90, not as written",
                "quote it ('1:30') if you mean that text; a number is plain decimal digits, a flag true or false",
            ),
        ),
        (
            "all: {vars: {ansible_user: ops}}\nhead: {hosts: {h1: }}\ncompute:\n  vars: {ansible_port: seventy}\n"
            "  hosts: {c1: }\n",
            Problem(
                "hosts.yaml: compute.vars.ansible_port",
                "must be a whole number, got 'seventy'",
                "use a number from 1 to 65535",
            ),
        ),
        (
            "head: {hosts: {h1: {ansible_user: a}}}\ncompute: {hosts: {h1: }}\n",
            Problem(
                "hosts.yaml: compute.hosts.h1",
                "h1 is in both the head and compute groups",
                "put each host in exactly one of head and compute",
            ),
        ),
    ],
)
def test_what_cannot_be_read_is_refused_where_it_was_written(tmp_path: Path, text: str, problem: Problem) -> None:
    assert refused(tmp_path, text) == (problem,)


def test_other_tools_variables_are_left_alone(tmp_path: Path) -> None:
    spec = spec_of(
        tmp_path,
        "all:\n  vars: {ansible_user: ops, ansible_become: yes, ansible_python_interpreter: auto}\n"
        "head: {hosts: {h1: }}\n",
    )
    assert rows(spec) == [("h1", "head", "h1", "ops", 22, "active", 0)]


def test_a_bad_group_variable_is_one_problem_however_many_hosts_take_it(tmp_path: Path) -> None:
    text = (
        "all: {vars: {ansible_user: ops}}\nhead: {hosts: {h1: }}\ncompute:\n  vars: {ansible_port: seventy}\n"
        "  hosts:\n    c[1:500]:\n"
    )
    assert refused(tmp_path, text) == (
        Problem(
            "hosts.yaml: compute.vars.ansible_port",
            "must be a whole number, got 'seventy'",
            "use a number from 1 to 65535",
        ),
    )
