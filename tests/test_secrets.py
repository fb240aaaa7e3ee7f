"""The program keeps the Central token secret by itself: the ZeroTier SDK marks nothing (as generated upstream).

The stand-in SDK, like the generated one, sends ``zerotierCentralToken`` as
given, so these registrations are secret only because the program made them so.
"""

from __future__ import annotations

import pytest

from tests.mockrun import Run, run_program, stack_file_config

TOKEN = "zerotier:zerotierCentralToken"


def provider_of(run: Run) -> tuple[dict[str, object], set[str]]:
    (provider,) = run.of_type("pulumi:providers:zerotier")
    return provider.inputs, provider.secret_fields()


@pytest.mark.parametrize(
    ("source", "token_is_secret_config", "env"),
    [
        ("secure stack config", True, {}),
        ("plain stack config", False, {}),
        ("environment", None, {"ZEROTIER_CENTRAL_TOKEN": "tok-from-env"}),
    ],
)
def test_the_provider_receives_the_token_as_a_secret_whatever_its_source(
    source: str, token_is_secret_config: bool | None, env: dict[str, str]
) -> None:
    config, secrets = stack_file_config("dev")
    secrets = [s for s in secrets if s != TOKEN]
    if token_is_secret_config is None:
        del config[TOKEN]
    else:
        config[TOKEN] = "tok-from-config"
        if token_is_secret_config:
            secrets.append(TOKEN)
    run = run_program(config, secrets, env=env)
    inputs, secret_fields = provider_of(run)
    expected = "tok-from-env" if token_is_secret_config is None else "tok-from-config"
    assert inputs == {"zerotierCentralToken": expected}, source
    assert secret_fields == {"zerotierCentralToken"}, source
    assert run.secret_outputs == set()
    assert all(expected not in str(value) for value in run.outputs.values())
