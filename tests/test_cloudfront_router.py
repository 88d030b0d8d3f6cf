"""The CloudFront Function in front of the media gallery (tenant_storage/cloudfront_router.js), run as CloudFront
runs it: its handler gets a viewer-request event and the `cloudfront` module's key value store and
`updateRequestOrigin` (the CloudFront Functions developer guide: event structure, "Helper methods for key value
stores", "Helper methods for origin modification").

CloudFront's runtime cannot run here; Node.js runs the same file as an ES module, `cloudfront` resolving to a
stand-in that answers from the key value store's pairs and records the origin each request is sent to. The only
change to the code is the export of `handler`, which CloudFront calls by name.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tenant_storage.public_access import ROUTER_CODE_FILE, TENANT_HEADER, router_code

STAND_IN = """
export const origins = [];
const pairs = JSON.parse(process.env.KEY_VALUE_PAIRS);
export default {
  kvs() {
    return {
      async get(key) {
        if (Object.prototype.hasOwnProperty.call(pairs, key)) return pairs[key];
        throw new Error(`the key ${key} was not found`);
      },
    };
  },
  updateRequestOrigin(params) { origins.push(params); },
};
"""
RUNNER = """
import { handler } from './router.mjs';
import { origins } from 'cloudfront';
let text = '';
for await (const chunk of process.stdin) text += chunk;
const answers = [];
for (const event of JSON.parse(text)) {
  origins.length = 0;
  const result = await handler(event);
  answers.push({ result, origins: [...origins] });
}
process.stdout.write(JSON.stringify(answers));
"""
PAIRS = {
    "acme": "fusion-rms-acme.s3.us-east-1.amazonaws.com",
    "globex": "fusion-rms-globex-1a2b3c4d.s3.us-east-1.amazonaws.com",
}
# CloudFront Functions' quota on a function's code, which cannot be raised (CloudFront's quotas page).
MAX_CODE_BYTES = 10_240


def event(uri: str, method: str = "GET", querystring: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "version": "1.0",
        "context": {"eventType": "viewer-request"},
        "viewer": {"ip": "198.51.100.7"},
        "request": {
            "method": method,
            "uri": uri,
            "querystring": querystring or {},
            "headers": {"host": {"value": "d111111abcdef8.cloudfront.net"}},
            "cookies": {},
        },
    }


@pytest.fixture(scope="module")
def run_router(tmp_path_factory: pytest.TempPathFactory) -> Any:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js runs the CloudFront Function here: install it (apt-get install nodejs)")
    folder = tmp_path_factory.mktemp("router")
    (folder / "node_modules" / "cloudfront").mkdir(parents=True)
    (folder / "node_modules" / "cloudfront" / "package.json").write_text('{"type": "module", "main": "index.mjs"}')
    (folder / "node_modules" / "cloudfront" / "index.mjs").write_text(STAND_IN)
    (folder / "router.mjs").write_text(router_code() + "\nexport { handler };\n")
    (folder / "run.mjs").write_text(RUNNER)

    def run(*events: dict[str, Any]) -> list[dict[str, Any]]:
        result = subprocess.run(
            [node, "run.mjs"],
            cwd=folder,
            input=json.dumps(events),
            capture_output=True,
            text=True,
            check=True,
            env={"KEY_VALUE_PAIRS": json.dumps(PAIRS), "PATH": str(Path(node).parent)},
            timeout=60,
        )
        answers: list[dict[str, Any]] = json.loads(result.stdout)
        return answers

    return run


def test_a_tenants_public_object_goes_to_its_own_bucket_signed_by_origin_access_control(run_router):
    [answer] = run_router(event("/globex/pub/logos/shop.png"))
    request = answer["result"]
    assert request["uri"] == "/pub/logos/shop.png"
    assert request["headers"][TENANT_HEADER] == {"value": "globex"}
    assert answer["origins"] == [
        {
            "domainName": PAIRS["globex"],
            "originAccessControlConfig": {
                "enabled": True,
                "signingBehavior": "always",
                "signingProtocol": "sigv4",
                "originType": "s3",
            },
        }
    ]


def test_two_tenants_same_key_are_two_cache_entries_and_two_buckets(run_router):
    acme, globex = run_router(event("/acme/pub/logo.png"), event("/globex/pub/logo.png"))
    assert acme["result"]["uri"] == globex["result"]["uri"] == "/pub/logo.png"
    assert acme["result"]["headers"][TENANT_HEADER] != globex["result"]["headers"][TENANT_HEADER]
    assert acme["origins"][0]["domainName"] != globex["origins"][0]["domainName"]


def test_an_encoded_key_that_is_no_dot_segment_is_served_as_it_is(run_router):
    [answer] = run_router(event("/acme/pub/menu%20card%2Fspring.png"))
    assert answer["result"]["uri"] == "/pub/menu%20card%2Fspring.png"


def test_head_is_served_and_the_query_string_never_reaches_s3(run_router):
    [answer] = run_router(event("/acme/pub/a.png", "HEAD", {"versionId": {"value": "older"}, "acl": {"value": ""}}))
    assert answer["result"]["method"] == "HEAD"
    assert answer["result"]["querystring"] == {}


@pytest.mark.parametrize(
    ("uri", "method", "status"),
    [
        ("/nobody/pub/logo.png", "GET", 404),  # an orgId the store does not list: never a bucket built from the path
        ("/acme/private/data.bin", "GET", 404),
        ("/acme/pub/", "GET", 404),
        ("/acme/pub/../private/data.bin", "GET", 404),
        ("/acme/pub/./logo.png", "GET", 404),
        ("/acme/pub/%2e%2e/private/data.bin", "GET", 404),
        ("/acme/pub/..%2Fprivate/data.bin", "GET", 404),
        ("/acme/pub/%E0%A4%A", "GET", 404),
        ("/acme//pub/logo.png", "GET", 404),
        ("//pub/logo.png", "GET", 404),
        ("/pub/logo.png", "GET", 404),
        ("/acme/pub/logo.png", "PUT", 405),
        ("/acme/pub/logo.png", "DELETE", 405),
        ("/hasOwnProperty/pub/logo.png", "GET", 404),
        ("/__proto__/pub/logo.png", "GET", 404),
    ],
)
def test_anything_else_is_answered_by_the_function_and_reaches_no_bucket(run_router, uri, method, status):
    [answer] = run_router(event(uri, method))
    assert answer["result"]["statusCode"] == status
    assert answer["origins"] == []


def test_the_code_fits_cloudfront_functions_quota():
    assert len(ROUTER_CODE_FILE.read_bytes()) <= MAX_CODE_BYTES
