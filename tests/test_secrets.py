"""The program keeps the Central token secret by itself: the ZeroTier SDK marks nothing (as generated upstream).

The stand-in SDK, like the generated one, sends ``zerotierCentralToken`` as
given, so these registrations are secret only because the program made them so.
"""

from __future__ import annotations

import json

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


def test_a_token_in_plain_stack_config_is_refused_before_anything_is_declared() -> None:
    config, secrets = stack_file_config("dev")
    config[TOKEN] = "tok-in-plain-text"
    declared: list[object] = []
    with pytest.raises(Exception, match="plain text") as err:  # the engine wraps it
        run_program(config, [s for s in secrets if s != TOKEN], declared=declared)
    assert (
        "zerotier:zerotierCentralToken: is in plain text in the stack file (anyone who reads the repository can "
        "control the network)\n    fix: remove it, revoke it at my.zerotier.com, and run "
        "`pulumi config set --secret zerotier:zerotierCentralToken`"
    ) in str(err.value)
    assert "tok-in-plain-text" not in str(err.value)
    assert [d.type for d in declared] == ["pulumi:pulumi:Stack"]


def test_a_secure_token_is_accepted_when_the_language_host_names_secrets_in_the_environment() -> None:
    """A real `pulumi up` passes secret keys in PULUMI_CONFIG_SECRET_KEYS, not through set_all_config."""
    config, secrets = stack_file_config("dev")
    config[TOKEN] = "tok-from-config"
    run = run_program(config, [], env={"PULUMI_CONFIG_SECRET_KEYS": json.dumps(sorted({*secrets, TOKEN}))})
    inputs, secret_fields = provider_of(run)
    assert inputs == {"zerotierCentralToken": "tok-from-config"}
    assert secret_fields == {"zerotierCentralToken"}
