"""The test machines' Debian mirror comes from the machine's own apt configuration, never from the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lab.rootfs import debian_mirror


def apt_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "sources.list.d").mkdir(exist_ok=True)
    return tmp_path


def test_deb822_sources_give_the_bookworm_main_uri_not_security_or_other_suites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZTC_DEBIAN_MIRROR", raising=False)
    apt = apt_dir(
        tmp_path,
        {
            "sources.list.d/node.sources": "Types: deb\nURIs: http://node.mirror.test/x\nSuites: nodistro\n"
            "Components: main\n",
            "sources.list.d/debian.sources": "Types: deb\n# a comment\nURIs: http://sec.mirror.test/debian-security\n"
            "Suites: bookworm-security\nComponents: main\n\n"
            "Types: deb\nURIs: http://deb.mirror.test/debian/\nSuites: bookworm bookworm-updates\n"
            "Components: main contrib\n",
        },
    )
    assert debian_mirror(apt) == "http://deb.mirror.test/debian"


def test_one_line_sources_and_disabled_stanzas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZTC_DEBIAN_MIRROR", raising=False)
    apt = apt_dir(
        tmp_path,
        {
            "sources.list.d/off.sources": "Enabled: no\nTypes: deb\nURIs: http://off.mirror.test/debian\n"
            "Suites: bookworm\nComponents: main\n",
            "sources.list": "# deb http://commented.test/debian bookworm main\n"
            "deb-src http://src.mirror.test/debian bookworm main\n"
            "deb [arch=amd64 signed-by=/k.gpg] http://line.mirror.test/debian bookworm main\n",
        },
    )
    assert debian_mirror(apt) == "http://line.mirror.test/debian"


def test_no_source_for_bookworm_says_what_to_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZTC_DEBIAN_MIRROR", raising=False)
    apt = apt_dir(tmp_path, {"sources.list": "deb http://old.mirror.test/debian bullseye main\n"})
    with pytest.raises(RuntimeError, match="set ZTC_DEBIAN_MIRROR"):
        debian_mirror(apt)
    monkeypatch.setenv("ZTC_DEBIAN_MIRROR", "http://given.test/debian")
    assert debian_mirror(apt) == "http://given.test/debian"
