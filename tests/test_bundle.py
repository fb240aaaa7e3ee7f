"""The bundle every node receives: content-addressed programs in one byte-identical tar, written once.

Pulumi's CopyToRemote copies again only when the asset's hash or path
changes, so the tar must be the same bytes for the same programs (no time,
owner or order of its own), its name must follow from its content, and a
second ``pulumi up`` must find the file as the first left it.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest

from cluster.plan.steps import Bundle, InstallParams, Pending, Program, program_for


def install(version: str | Pending = "1.14.1") -> InstallParams:
    return InstallParams(
        zerotier_version=version,  # type: ignore[arg-type]
        installer_url="https://installer.example/",
        signing_key_url="https://key.example/key.gpg",
        signing_key_fingerprint="74A5E9C458E1A431F1DA57A71657198823E52A61",
        uninstall_on_destroy="false",
    )


def test_each_program_is_shipped_once_under_its_own_hash_in_a_tar_without_time_or_owner() -> None:
    a, b = program_for(install("1.14.1")), program_for(install("1.14.2"))
    bundle = Bundle.of([b, a, b, a])
    assert [p.sha for p in bundle.programs] == sorted({a.sha, b.sha})
    with tarfile.open(fileobj=io.BytesIO(bundle.tar)) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == [f"objects/{sha}" for sha in sorted({a.sha, b.sha})]
        for member in members:
            assert (member.mode, member.mtime, member.uid, member.gid) == (0o644, 0, 0, 0)
            assert (member.uname, member.gname) == ("root", "root")
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            assert hashlib.sha256(data).hexdigest() == member.name.removeprefix("objects/")
    assert Bundle.of([a, b]).tar == bundle.tar
    assert bundle.sha == hashlib.sha256(bundle.tar).hexdigest()


def test_the_file_is_named_for_its_content_written_whole_and_never_rewritten(tmp_path: Path) -> None:
    bundle = Bundle.of([program_for(install())])
    directory = tmp_path / "not" / "yet"
    path = bundle.write(directory)
    assert path == directory / f"{bundle.sha[:16]}.tar"
    assert path.read_bytes() == bundle.tar
    assert sorted(p.name for p in directory.iterdir()) == [path.name]  # no partial file left
    os.utime(path, ns=(0, 0))
    assert bundle.write(directory) == path
    assert path.stat().st_mtime_ns == 0  # found as it was: not written again
    other = Bundle.of([program_for(install("1.14.2"))])
    assert other.write(directory).read_bytes() == other.tar  # beside it, in the directory that now exists


def test_a_value_only_pulumi_up_knows_cannot_be_part_of_a_shared_program() -> None:
    with pytest.raises(ValueError, match=r"^install: a value only pulumi up knows must be a per-node parameter$"):
        program_for(install(Pending("networkId")))


def test_a_program_is_its_shared_parameters_lib_and_its_script() -> None:
    program = program_for(install())
    assert isinstance(program, Program)
    lines = program.text.splitlines()
    assert lines[0] == "# zerotier-cluster install program: shared parameters, lib.sh, install.sh"
    assert lines[1] == "ZTC_ZEROTIER_VERSION=1.14.1"
    assert not any(line.startswith("#!") for line in lines)
