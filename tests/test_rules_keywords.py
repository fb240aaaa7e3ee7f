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

import json
from pathlib import Path
from typing import Any

import pytest

from cluster.rules.keywords import KEYWORDS
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
