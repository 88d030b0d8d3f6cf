"""The committed JSON Schema of tenants.yaml is current, accepts the fixture registry and rejects malformed files."""

import json

import jsonschema
import pytest
import yaml

from mock_runtime.runner import PROJECT_DIR
from tenant_storage.schema import SCHEMA_FILE, render_schema
from tests.conftest import FIXTURE_INPUTS

SCHEMA = json.loads((PROJECT_DIR / SCHEMA_FILE).read_text())


def test_the_committed_schema_is_generated_from_the_current_model():
    assert (PROJECT_DIR / SCHEMA_FILE).read_text() == render_schema(), (
        "regenerate it: .venv/bin/python -m tenant_storage.schema > tenants.schema.json"
    )


def test_it_accepts_the_fixture_registry():
    jsonschema.validate(yaml.safe_load((FIXTURE_INPUTS / "tenants.yaml").read_text()), SCHEMA)


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"tenants": "xmsqa1"},
        {"tenants": [{"orgId": "xmsqa1"}]},
        {"tenants": [{"orgId": "xmsqa1", "enviroment": "qa", "environment": "qa"}]},
        {"tenants": [{"orgId": False, "environment": "qa"}]},
        {"tenants": [{"orgId": 83, "environment": "qa"}]},
        {"tenants": [{"orgId": "XMS_qa", "environment": "qa"}]},
        {"tenants": [{"orgId": "a--b", "environment": "qa"}]},
        {"tenants": [{"orgId": "xmsqa1", "environment": "prod"}]},
        {"tenants": [{"orgId": "xmsqa1", "environment": "qa", "profile": "private"}]},
        {"tenants": [{"orgId": "xmsqa1", "environment": "qa", "randomSuffix": "yes"}]},
        {"tenants": [], "extra": 1},
        {"tenants": [{"org_id": "xmsqa1", "environment": "qa"}]},
    ],
)
def test_it_rejects_malformed_registries(document):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)


@pytest.mark.parametrize("field", ["publicAccess", "bucketNamespace", "bucketName", "accessKeys"])
def test_an_optional_field_written_empty_is_refused_as_the_registry_refuses_it(field):
    entry = {"orgId": "acme", "environment": "qa", field: None}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"tenants": [entry]}, SCHEMA)
