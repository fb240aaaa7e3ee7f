"""Each keyword read as ZeroTier's own compiler reads it: never looser, and never with another meaning.

``keywords.json`` (``tests/rules_golden/record.py``) holds what ZeroTier's rule
compiler made of each text below, written as an operator would write it
(spellings, cases, hex, ranges, comments, odd whitespace). For each: where
ZeroTier refuses, the program refuses too; where ZeroTier accepts, the program
gives the same compiled rules, or refuses it on purpose (:data:`STRICTER`, with
the reason); so operator text never means one thing here and another in
ZeroTier. Then the table itself: one entry per keyword, each keyword's source
words read back to the same arguments.
"""

from __future__ import annotations

import dataclasses
import json
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from cluster.rules.frame import ARP, FIN, ICMP, TCP, UDP, Frame, Member
from cluster.rules.keywords import HARD_NO, HARD_YES, KEYWORDS, shown
from cluster.rules.parser import parse_source

GOLDEN = Path(__file__).resolve().parent / "rules_golden" / "keywords.json"

TEXTS = [
    # every keyword, plainly
    "accept ztsrc 0123456789abcdef;",
    "accept ztsrc 0123456789;",
    "accept ztdest ABCDEF0123;",
    "accept ztsrc 0x01234567;",
    "accept ethertype arp;",
    "accept ethertype ARP;",
    "accept ethertype 0x0806;",
    "accept ethertype 0X0806;",
    "accept ethertype 2054;",
    "accept ethertype 0x1ffff;",
    "accept ipprotocol tcp;",
    "accept ipprotocol icmp;",
    "accept ipprotocol icmp4;",
    "accept ipprotocol 300;",
    "accept ipprotocol 6abc;",
    "accept ipsrc 10.147.17.0/24;",
    "accept ipsrc 10.147.17.5/32 or ipdest 10.147.17.0/28;",
    "accept ipsrc 10.147.17.5;",
    "accept ipsrc 10.147.017.5/32;",
    "accept ipsrc fd00::1/64;",
    "accept ipdest 300.1.1.1/8;",
    "accept icmp 8 -1;",
    "accept icmp 3 4;",
    "accept icmp 8 -5;",
    "accept icmp 256 0;",
    "accept dport 22;",
    "accept sport 1000-2000;",
    "accept dport 22-;",
    "accept dport 30-20;",
    "accept dport 0x16;",
    "accept dport 70000;",
    "accept dport 1-2-3;",
    # every bound, both ends; the longest numbers read
    "accept ethertype 0;",
    "accept ethertype 0xffff;",
    "accept ethertype 0x10000;",
    "accept ipprotocol 0;",
    "accept ipprotocol 255;",
    "accept ipprotocol 256;",
    "accept icmp 0 0;",
    "accept icmp 255 255;",
    "accept icmp 3 256;",
    "accept dport 0-0;",
    "accept dport 1-65535;",
    "accept sport 1-65536;",
    "accept dport 0000000022;",
    "accept dport 00000000022;",
    "accept dport 0x0000000000000016;",
    "accept dport 0x00000000000000016;",
    "accept ipsrc 10.147.17.5/33;",
    "accept chr tcp_syn;",
    "accept chr inbound,tcp_syn,tcp_ack;",
    "accept chr TCP_SYN;",
    "accept chr ,;",
    "accept chr ipauth,,macauth;",
    "accept chr 31;",
    "accept chr 31,tcp_syn;",
    "accept chr inbound,multicast;",
    "accept chr 64;",
    "accept chr bogus;",
    "accept tseq role head;",
    "accept treq role device;",
    "accept tseq role HEAD;",
    "accept tseq role 2;",
    "accept tseq dept eng;",
    # not, or, and; case of keywords and actions; separators and comments
    "drop not ethertype ipv4 and not ethertype arp or not chr ipauth;",
    "drop NOT ETHERTYPE ipv4 AND ipprotocol udp;",
    "ACCEPT ethertype arp;",
    "accept or ethertype arp;",
    "accept ethertype arp and not;",
    "accept\tethertype\r\narp ;",
    "accept ethertype arp # comment; drop;\n;",
    "accept ethertype\u00a0arp;",
    "accept ethertype arp;;",
    "accept ipprotocol udp and dport 53\n# drop ipprotocol tcp;\ndrop ipprotocol tcp and dport 23;",
    "# c\u2028accept ethertype arp;",
    "accept ethertype arp; break ipprotocol udp; drop ipprotocol tcp;",
    "accept dprt 22;",
    "accept ethertype;",
    "tee 0 0123456789 ipprotocol tcp;",
]

#: What ZeroTier's compiler accepts and the program refuses on purpose, and why.
STRICTER = {
    "accept ipprotocol 6abc;": "numbers are digits only (ZeroTier reads 6)",
    "accept ipsrc fd00::1/64;": "the overlay is IPv4 only",
    "accept ipdest 300.1.1.1/8;": "not an address (ZeroTier's pattern finds one inside the text: 00.1.1.1)",
    "accept ethertype arp and not;": "a 'not' before nothing is a mistake (ZeroTier drops it)",
    "tee 0 0123456789 ipprotocol tcp;": "tee copies traffic elsewhere",
    "accept icmp 8 -5;": "the code is 0-255 or -1 (ZeroTier reads any negative number as -1)",
    "accept chr ,;": "a chr that names nothing never matches",
    "accept chr 31,tcp_syn;": "ZeroTier's compiler writes this mask wrong (signed 32-bit JavaScript)",
    "accept chr inbound,multicast;": "ZeroTier's compiler writes this mask wrong (signed 32-bit JavaScript)",
    "accept tseq role 2;": "role values by name only",
    "accept ethertype 0x1ffff;": "an ethertype is 16 bits",
    "accept ipprotocol 300;": "an IP protocol is 8 bits",
    "accept ethertype 0x10000;": "an ethertype is 16 bits",
    "accept ipprotocol 256;": "an IP protocol is 8 bits",
    "accept ipsrc 10.147.17.5/33;": "an IPv4 prefix is 0-32 bits",
    "accept dport 00000000022;": "a decimal number is at most 10 digits (no field needs more)",
    "accept dport 0x00000000000000016;": "a hex number is at most 16 digits after 0x (no field needs more)",
}


def records() -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(GOLDEN.read_text())
    return loaded


def test_the_golden_file_holds_every_text() -> None:
    assert [r["text"] for r in records()] == TEXTS


@pytest.mark.parametrize("record", records(), ids=lambda r: repr(r["text"]))
def test_operator_text_means_here_what_it_means_to_zerotier(record: dict[str, Any]) -> None:
    parsed, problems = parse_source(record["text"], "k", final=True)
    compiled = [entry for rule in parsed for entry in rule.compiled()]
    if "error" in record:
        assert problems, f"ZeroTier refuses it ({record['error']}), the program gave {compiled}"
    elif record["text"] in STRICTER:
        assert problems, f"refused on purpose: {STRICTER[record['text']]}"
    else:
        assert problems == []
        assert compiled == record["rules"]


def test_the_stricter_cases_are_ones_zerotier_accepts() -> None:
    accepted = {r["text"] for r in records() if "error" not in r}
    assert set(STRICTER) <= accepted


@pytest.mark.parametrize("keyword", sorted(KEYWORDS))
def test_each_keyword_reads_its_own_words_back(keyword: str) -> None:
    entry = KEYWORDS[keyword]
    samples = {
        "ztsrc": ["0123456789"], "ztdest": ["abcdef0123"], "ethertype": ["ipv4"], "ipprotocol": ["udp"],
        "ipsrc": ["10.147.17.0/24"], "ipdest": ["10.147.17.5/32"], "icmp": ["3", "-1"], "sport": ["1000-2000"],
        "dport": ["22"], "chr": ["inbound,tcp_syn"], "tseq": ["role", "head"], "treq": ["role", "device"],
    }  # fmt: skip
    words = samples[keyword]
    assert len(words) == entry.arity
    args = entry.parse(words)
    assert entry.words(args) == words
    assert entry.parse(entry.words(args)) == args


def refusal(keyword: str, words: list[str]) -> str:
    with pytest.raises(ValueError, match=r".") as refused:
        KEYWORDS[keyword].parse(words)
    return str(refused.value)


def test_each_refusal_names_the_argument_and_the_fix() -> None:
    assert refusal("ethertype", ["ARP"]) == "ethertype 'ARP': names are lower case, as ZeroTier reads them: write arp"
    assert refusal("ipprotocol", ["x"]) == "IP protocol 'x' is not a number"
    assert refusal("ipprotocol", ["TCP"]) == (
        "IP protocol 'TCP': names are lower case, as ZeroTier reads them: write tcp"
    )
    assert refusal("icmp", ["x", "0"]) == "ICMP type 'x' is not a number"
    assert refusal("icmp", ["3", "x"]) == "ICMP code (or -1 for any) 'x' is not a number"
    assert refusal("ipsrc", ["10.147.17.5/33"]) == "'10.147.17.5/33' is not an IPv4 address with /bits"
    assert refusal("ipdest", ["10.1.2.3/8:1/9"]) == (
        "'10.1.2.3/8:1/9' is not an IPv4 address with /bits (a dotted quad, no leading zeros)"
    )


def test_a_number_too_long_to_read_is_out_of_range_not_a_python_error() -> None:
    # 5,000 digits: past Python's int() limit of 4,300, which would answer with its own words
    digits = "9" * 5000
    assert refusal("dport", [digits]) == f"port {digits[:40]!r}... (5000 characters) is out of range (0-65535)"
    assert refusal("dport", ["0x" + "f" * 5000]) == (
        f"port {('0x' + 'f' * 38)!r}... (5002 characters) is out of range (0-65535)"
    )


def test_an_excerpt_is_whole_up_to_forty_characters() -> None:
    assert shown("a" * 40) == repr("a" * 40)
    assert shown("a" * 41) == repr("a" * 40) + "... (41 characters)"
    assert shown("b" * 10, limit=9) == "'bbbbbbbbb'... (10 characters)"


def test_a_value_without_a_name_is_written_as_a_number() -> None:
    assert KEYWORDS["ethertype"].words((0x1234,)) == ["0x1234"]
    assert KEYWORDS["ethertype"].words((0x0806,)) == ["arp"]
    assert KEYWORDS["ipprotocol"].words((200,)) == ["200"]
    assert KEYWORDS["ipprotocol"].words((1,)) == ["icmp4"]  # 'icmp' is a keyword ZeroTier refuses there
    assert KEYWORDS["tseq"].words((1, 9)) == ["role", "9"]


HEAD = Member("head", IPv4Address("10.147.17.1"), "aaaaaaaaaa")
COMPUTE = Member("compute", IPv4Address("10.147.17.2"), "bbbbbbbbbb")


def test_ztdest_is_the_receivers_address_and_zero_before_it_is_known() -> None:
    to_compute = Frame(HEAD, COMPUTE, inbound=False, protocol=TCP)
    assert KEYWORDS["ztdest"].test(("bbbbbbbbbb",), to_compute) is True
    assert KEYWORDS["ztdest"].test(("aaaaaaaaaa",), to_compute) is False
    request = Frame(HEAD, None, inbound=False, ethertype=ARP, destination="broadcast")
    assert KEYWORDS["ztdest"].test(("0000000000",), request) is True
    assert KEYWORDS["ztdest"].test(("bbbbbbbbbb",), request) is False


def test_ip_matches_on_a_frame_without_an_ip_header_are_a_no_that_not_keeps() -> None:
    reply = Frame(HEAD, COMPUTE, inbound=True, ethertype=ARP)
    for keyword, args in (
        ("ipprotocol", (0,)),
        ("ipsrc", ("10.147.17.1/32",)),
        ("ipdest", ("10.147.17.2/32",)),
        ("icmp", (0, -1)),
        ("sport", (0, 65535)),
    ):
        assert KEYWORDS[keyword].test(args, reply) is HARD_NO, keyword


def test_icmp_matches_type_then_code_and_no_code_is_a_yes_that_not_keeps() -> None:
    unreachable = Frame(HEAD, COMPUTE, inbound=False, protocol=ICMP, icmp=(3, 4))
    assert KEYWORDS["icmp"].test((3, 4), unreachable) is True
    assert KEYWORDS["icmp"].test((3, 1), unreachable) is False
    assert KEYWORDS["icmp"].test((3, -1), unreachable) is HARD_YES
    assert KEYWORDS["icmp"].test((8, -1), unreachable) is HARD_NO
    # a TCP frame carries no ICMP type, even one whose unused field reads 0
    assert KEYWORDS["icmp"].test((0, -1), Frame(HEAD, COMPUTE, inbound=False, protocol=TCP)) is HARD_NO


def chr_test(names: str, frame: Frame) -> object:
    return KEYWORDS["chr"].test(KEYWORDS["chr"].parse([names]), frame)


def test_chr_reads_each_characteristic_from_the_frame_alone() -> None:
    inbound_request = Frame(HEAD, COMPUTE, inbound=True, ethertype=ARP, destination="broadcast")
    outbound_udp = Frame(HEAD, COMPUTE, inbound=False, protocol=UDP)
    assert chr_test("inbound", inbound_request) is True
    assert chr_test("inbound", outbound_udp) is False
    # each bit beside the others: a broadcast is multicast too, and inbound
    assert chr_test("multicast", inbound_request) is True
    assert chr_test("broadcast", inbound_request) is True
    assert chr_test("multicast", outbound_udp) is False
    # no TCP flag on a frame that is not TCP, not even FIN
    assert chr_test("tcp_fin", outbound_udp) is False
    assert chr_test("tcp_fin", Frame(HEAD, COMPUTE, inbound=False, protocol=TCP, tcp_flags=FIN)) is True
    # ipauth: the sender always knows its own certificate; the receiver needs the sender's credentials
    stranger = Frame(HEAD, COMPUTE, inbound=False, protocol=UDP, peer_known=False)
    assert chr_test("ipauth", stranger) is True
    assert chr_test("ipauth", dataclasses.replace(stranger, inbound=True)) is False
    assert chr_test("ipauth", dataclasses.replace(stranger, inbound=True, peer_known=True)) is True


def test_chr_takes_bit_numbers_from_0_and_refuses_a_mask_zerotier_would_write_wrong() -> None:
    assert KEYWORDS["chr"].parse(["0"]) == (1,)
    assert KEYWORDS["chr"].words((1,)) == ["tcp_fin"]
    assert KEYWORDS["chr"].words((1 << 20,)) == ["20"]
    assert refusal("chr", ["31,tcp_syn"]) == (
        "'31,tcp_syn': bits 31 and 0-30 cannot share one chr (ZeroTier's compiler gets the mask wrong); "
        "write them as 'chr a or chr b'"
    )


def test_a_port_range_that_touches_the_rules_at_one_end_is_cut_there() -> None:
    frame = Frame(HEAD, COMPUTE, inbound=False, protocol=TCP, sport=(40000, 40000), dport=(10, 22))
    assert KEYWORDS["dport"].test((22, 30), frame) == (frame.with_ports((40000, 40000), (10, 21)),
                                                       frame.with_ports((40000, 40000), (22, 22)))  # fmt: skip
    above = frame.with_ports((40000, 40000), (22, 30))
    assert KEYWORDS["dport"].test((10, 22), above) == (above.with_ports((40000, 40000), (22, 22)),
                                                       above.with_ports((40000, 40000), (23, 30)))  # fmt: skip
    assert KEYWORDS["dport"].test((31, 40), above) is False
    assert KEYWORDS["dport"].test((1, 21), above) is False


def test_a_range_inside_the_rules_matches_whole_and_a_source_range_is_cut_on_the_source() -> None:
    exact = Frame(HEAD, COMPUTE, inbound=False, protocol=TCP, sport=(40000, 40000), dport=(22, 22))
    assert KEYWORDS["dport"].test((22, 22), exact) is True
    assert KEYWORDS["sport"].test((40000, 40000), exact) is True
    clients = exact.with_ports((500, 1500), (22, 22))
    assert KEYWORDS["sport"].test((1000, 2000), clients) == (
        clients.with_ports((500, 999), (22, 22)),
        clients.with_ports((1000, 1500), (22, 22)),
    )
