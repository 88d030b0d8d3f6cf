"""Every AWS call each command makes is in the catalogue (`catalogue/actions.py` COMMAND_OPERATIONS, and the
readers' `operations` for audit): the CI roles are derived from those lists, so a call a command makes that
they lack would be a permission the role is missing. Each command runs against the emulator holding the qa
stack as declared, and every call it makes is recorded as botocore makes it."""

from __future__ import annotations

import pytest
from botocore.client import BaseClient

from catalogue.actions import COMMAND_OPERATIONS, Operation
from catalogue.readers import READERS
from cli.main import main
from tenant_storage.ci_roles import declared_inputs
from tests.conftest import fixture_plan, fixture_project


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, requests_over_tls: None) -> list[Operation]:
    made: list[Operation] = []
    make_api_call = BaseClient._make_api_call

    def recorded(client: BaseClient, operation_name: str, api_params: dict) -> object:
        made.append((client.meta.service_model.service_name, operation_name))
        return make_api_call(client, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recorded)
    return made


def allowed(command: str) -> frozenset[Operation]:
    if command != "audit":
        return COMMAND_OPERATIONS[command]
    declared = declared_inputs((resource.type, resource.inputs) for resource in fixture_plan("qa").resources)
    return COMMAND_OPERATIONS[command] | {call for token in declared for call in READERS[token].operations}


def test_every_call_each_command_makes_is_in_the_catalogue(deployed, calls, capsys):
    for command in ("audit", "usage", "check-names", "preflight", "discover"):
        calls.clear()
        main([command, "--stack", "qa", "--endpoint-url", deployed], project_dir=fixture_project())
        capsys.readouterr()
        made = set(calls)
        assert made, f"{command} made no call: it did not get as far as AWS"
        assert made <= allowed(command), (command, sorted(made - allowed(command)))
