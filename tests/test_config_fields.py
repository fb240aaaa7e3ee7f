"""The readers of ``cluster/config/fields.py``, called directly, each answer literal.

The field tables are built when ``cluster.config.parse`` is imported, so a
reader factory's body runs once, before any test: these tests build readers
themselves and read values at both ends of what each accepts (found by
mutation testing, docs/testing.md).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from cluster.config import fields as f
from cluster.config import validate as v
from cluster.conventions import MAX_LIST_ENTRIES

Answer = tuple[Any, list[tuple[str, str, str]]]


def read(reader: f.Reader, value: Any) -> Answer:
    p = f.Problems("zerotier-cluster:x")
    out = reader(value, p)
    return (None if out is f.INVALID else out), [(q.key, q.message, q.fix) for q in p.items]


def refused(message: str, fix: str = "FIX") -> Answer:
    return None, [("zerotier-cluster:x", message, fix)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("inet_t", ("inet_t", [])),
        ("9x", refused("'9x' is not a table name")),
        (None, refused("None is not a table name")),
        (5, refused("5 is read as a number, not as text", "quote it ('5'); FIX")),
        (1.5, refused("1.5 is read as a number, not as text", "quote it ('1.5'); FIX")),
        (True, refused("true is read as true or false, not as text", "quote it ('true'); FIX")),
        pytest.param(
            10**5000,
            refused(
                "a number too long to show is read as a number, not as text",
                "quote it ('a number too long to show'); FIX",
            ),
            id="a huge int",
        ),
    ],
)
def test_text(value: Any, expected: Answer) -> None:
    assert read(f.text(v.NFT_NAME, "a table name", "FIX"), value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0123456789", ("0123456789", [])),
        (" ABCDEF0123 ", ("abcdef0123", [])),
        (1234567890, ("1234567890", [])),
        (True, refused("True is not a ZeroTier address")),
        (-1, refused("-1 is not a ZeroTier address")),
        (0, refused("'0' is not a ZeroTier address")),
        (10**20, refused("100000000000000000000 is not a ZeroTier address")),
        (10**20 - 1, refused("'99999999999999999999' is not a ZeroTier address")),
        ("x", refused("'x' is not a ZeroTier address")),
    ],
)
def test_hex_id(value: Any, expected: Answer) -> None:
    assert read(f.hex_id(re.compile(r"[0-9a-f]{10}"), "a ZeroTier address", "FIX"), value) == expected


RANGE = "use a number from 10 to 3600"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (10, (10, [])),
        (3600, (3600, [])),
        ("20", (20, [])),
        (" 20 ", (20, [])),
        (9, refused("9 is out of range", RANGE)),
        (3601, refused("3601 is out of range", RANGE)),
        ("٣", refused("must be a whole number, got '٣'", RANGE)),
        (True, refused("must be a whole number, got True", RANGE)),
        (1.5, refused("must be a whole number, got 1.5", RANGE)),
    ],
)
def test_number(value: Any, expected: Answer) -> None:
    assert read(f.number(10, 3600), value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, (True, [])),
        (False, (False, [])),
        ("TRUE", (True, [])),
        ("False", (False, [])),
        ("yes", refused("must be true or false, got 'yes'", "write true or false")),
        (1, refused("must be true or false, got 1", "write true or false")),
    ],
)
def test_flag(value: Any, expected: Answer) -> None:
    answer = read(f.flag, value)
    assert answer == expected
    assert type(answer[0]) is type(expected[0])


CASE = "write head (lowercase: the value is case-sensitive)"
ONE_OF = "use one of: central, head"


@pytest.mark.parametrize(
    ("what", "value", "expected"),
    [
        ("", "head", ("head", [])),
        ("", "Head", refused("'Head' is not one of central, head", CASE)),
        ("a controller", "Head", refused("'Head' is not a controller", CASE)),
        ("", "x", refused("'x' is not one of central, head", ONE_OF)),
        ("a controller", 5, refused("5 is not a controller", ONE_OF)),
    ],
)
def test_choice(what: str, value: Any, expected: Answer) -> None:
    reader = f.choice(("central", "head"), what) if what else f.choice(("central", "head"))
    assert read(reader, value) == expected


OCTAL = (
    "'010.0.0.1' is read by ssh and the C library as the address 8.0.0.1 (a leading 0 means octal); "
    "Python tools read 10.0.0.1: write 8.0.0.1 (dotted quad, no leading zeros) or the address you mean"
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.1", None),
        ("010.0.0.1", OCTAL),
        (" 010.0.0.1/8", OCTAL),
        (" " * 90 + "010.0.0.1", OCTAL),
        (" " * 91 + "010.0.0.1", OCTAL),
        (" " * 92 + "010.0.0.1", None),
        ("/8", None),
        (5, None),
    ],
)
def test_spelling(value: Any, expected: str | None) -> None:
    assert f.spelling(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.1", ("10.0.0.1", [])),
        ("010.0.0.1", refused(OCTAL)),
        ("x", refused("'x' is not an IPv4 address")),
        (5, refused("5 is not an IPv4 address")),
    ],
)
def test_ipv4(value: Any, expected: Answer) -> None:
    out, problems = read(f.ipv4("FIX"), value)
    assert (None if out is None else str(out), problems) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.0/8", ("10.0.0.0/8", [])),
        ("10.0.0.1/8", refused("'10.0.0.1/8' is not an IPv4 network in CIDR form (host bits must be zero)")),
        ("010.0.0.1/8", refused(OCTAL)),
        (5, refused("5 is not an IPv4 network in CIDR form (host bits must be zero)")),
    ],
)
def test_ipv4_net(value: Any, expected: Answer) -> None:
    out, problems = read(f.ipv4_net("FIX"), value)
    assert (None if out is None else str(out), problems) == expected


SOURCE_FIX = "write it like 192.0.2.0/24, 198.51.100.7 or 2001:db8::/32 (host bits zero)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.0/8", ("10.0.0.0/8", [])),
        ("2001:db8::/32", ("2001:db8::/32", [])),
        ("198.51.100.7", ("198.51.100.7/32", [])),
        ("010.0.0.1", refused(OCTAL, SOURCE_FIX)),
        ("x", refused("'x' is not an address or network in CIDR form", SOURCE_FIX)),
        (5, refused("5 is not an address or network in CIDR form", SOURCE_FIX)),
    ],
)
def test_source(value: Any, expected: Answer) -> None:
    out, problems = read(f.source, value)
    assert (None if out is None else str(out), problems) == expected


def test_list_of() -> None:
    flags = f.list_of(f.flag, "LFIX")
    assert read(flags, [True, "false"]) == ((True, False), [])
    assert read(flags, True) == refused("must be a list, got bool", "LFIX")
    assert read(flags, (True,)) == refused("must be a list, got tuple", "LFIX")
    assert read(flags, [True, 5]) == (
        None,
        [("zerotier-cluster:x[1]", "must be true or false, got 5", "write true or false")],
    )
    assert read(f.list_of(f.flag, "LFIX", single=True), True) == ((True,), [])
    assert read(f.list_of(f.flag, "LFIX", single=True), [False]) == ((False,), [])
    assert read(flags, [True] * MAX_LIST_ENTRIES) == ((True,) * MAX_LIST_ENTRIES, [])
    assert read(flags, [True] * (MAX_LIST_ENTRIES + 1)) == refused(
        f"has {MAX_LIST_ENTRIES + 1} entries, more than {MAX_LIST_ENTRIES}", "split the cluster into several stacks"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ops", ("ops", [])),
        ("a$b", refused("'a$b' is not a login name: it contains characters a shell would interpret ('$')", "UFIX")),
        (5, refused("5 is read as a number, not as text", "quote it ('5'); UFIX")),
        (False, refused("false is read as true or false, not as text", "quote it ('false'); UFIX")),
        (None, refused("must be text, got None", "UFIX")),
        (["ops"], refused("must be text, got ['ops']", "UFIX")),
    ],
)
def test_connection_text(value: Any, expected: Answer) -> None:
    assert read(f.connection_text(v.check_user, "UFIX", outputs=False), value) == expected
    assert read(f.connection_text(v.check_user, "UFIX", outputs=True), value) == expected


TABLE = (f.Field("a", f.flag), f.Field("bB", f.flag, f.REQUIRED, "BFIX"))


def test_section_and_read_fields() -> None:
    def build(values: dict[str, Any]) -> dict[str, Any]:
        return values

    section = f.section(TABLE, build)
    assert read(section, {"bB": "true"}) == ({"a": None, "bB": True}, [])
    assert read(section, {"a": True, "bB": False, "c": 1}) == (
        {"a": True, "bB": False},
        [("zerotier-cluster:x.c", "is not a recognised field", "use one of: a, bB")],
    )
    assert read(section, {"a": 1, "bB": True}) == (
        None,
        [("zerotier-cluster:x.a", "must be true or false, got 1", "write true or false")],
    )
    assert read(section, {"bb": 1, "bBb": True}) == (
        None,
        [
            ("zerotier-cluster:x.bBb", "is not a recognised field", "did you mean 'bB'?"),
            ("zerotier-cluster:x.bb", "is not a recognised field", "use one of: a, bB"),
            ("zerotier-cluster:x.bB", "is missing", "BFIX"),
        ],
    )
    assert read(section, 5) == refused("must be a mapping, got int", "write it as YAML keys")
    top = f.Problems()
    assert f.read_fields({"netwrk": 1, "zzz": 2, 5: 1}, (f.Field("network", f.flag),), top) == {"network": None}
    assert [(q.key, q.message, q.fix) for q in top.items] == [
        ("zerotier-cluster:5", "is not a setting this program reads", "remove it"),
        ("zerotier-cluster:netwrk", "is not a setting this program reads", "did you mean zerotier-cluster:network?"),
        ("zerotier-cluster:zzz", "is not a setting this program reads", "remove it"),
    ]


def test_problems_name_each_key_in_its_scope() -> None:
    p = f.Problems()
    assert (p.key(), p.key("network")) == ("zerotier-cluster", "zerotier-cluster:network")
    assert p.at("nodes").key("[1]") == "zerotier-cluster:nodes[1]"
    assert p.under("inv.yaml: all.hosts.NODEX").key() == "inv.yaml: all.hosts.NODEX"
    assert p.at("nodes").at("[1]").key("host") == "zerotier-cluster:nodes[1].host"
    inventory = p.under("inv.yaml: all.hosts.h1", {"host": "ansible_host"}, {"ip": "inv.yaml: all.vars.ip"})
    assert (inventory.key("host"), inventory.key("ip"), inventory.key("user")) == (
        "inv.yaml: all.hosts.h1.ansible_host",
        "inv.yaml: all.vars.ip",
        "inv.yaml: all.hosts.h1.user",
    )
    inventory.add("port", "M", "F")
    assert [(q.key, q.message, q.fix) for q in p.items] == [("inv.yaml: all.hosts.h1.port", "M", "F")]
    assert f.printable("a" * 64) == "a" * 64
    assert f.printable("a" * 65) == "'" + "a" * 60 + "..."
    assert (f.printable(5), f.printable("a\nb"), f.key("x")) == ("5", "'a\\nb'", "zerotier-cluster:x")
    assert f.Field("keyFingerprint", f.flag).attribute == "key_fingerprint"
    assert f.Field("url", f.flag, attr="installer_url").attribute == "installer_url"
    assert (repr(f.INVALID), repr(f.REQUIRED), repr(f.Marker("X"))) == ("INVALID", "REQUIRED", "X")


def test_a_pulumi_output_passes_as_a_host_only_where_outputs_are_allowed() -> None:
    import pulumi

    output = pulumi.Output.from_input("10.0.0.5")
    p = f.Problems()
    assert f.connection_text(v.check_host, "F", outputs=True)(output, p) is output
    assert p.items == []
    assert f.connection_text(v.check_host, "F", outputs=False)(output, p) is f.INVALID
    assert [
        (q.key, q.message.startswith("must be text, got <pulumi.output.Output object"), q.fix) for q in p.items
    ] == [("zerotier-cluster", True, "F")]
