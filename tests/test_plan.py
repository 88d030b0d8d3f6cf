"""The offline plan: what each stack would deploy, or every validation error and a non-zero exit."""

from offline import plan
from tests.test_refusals import replace_in


def test_it_prints_each_tenant_of_each_stack(capsys):
    assert plan.main([]) == 0
    out = capsys.readouterr().out
    assert "stack prod: 4 tenants, 47 resources" in out
    assert "stack qa: 4 tenants, 47 resources" in out
    row = next(line.split() for line in out.splitlines() if line.strip().startswith("xmsqa1 "))
    assert row == ["xmsqa1", "fusion-rms-xmsqa1", "media-gallery", "qa", "rms_xmsqa1", "11"]
    assert next(line.split() for line in out.splitlines() if line.strip().startswith("acme-orders "))[-1] == "10"


def test_a_suffixed_bucket_is_marked_as_mocked(capsys):
    assert plan.main(["--stack", "prod"]) == 0
    out = capsys.readouterr().out
    assert "fusion-rms-globex-" in out
    assert plan.MOCKED_SUFFIX_NOTE in out
    assert "stack qa" not in out


def test_it_never_prints_a_secret(capsys):
    plan.main([])
    assert "mock-secret-" not in capsys.readouterr().out


def test_invalid_inputs_print_every_problem_and_exit_1(project, capsys):
    replace_in("tenants.yaml", "orgId: xmsqa1", "orgId: no")(project)
    replace_in("tenants.yaml", "profile: app-storage", "profile: private")(project)
    assert plan.main(["--stack", "qa"], project_dir=project) == 1
    out = capsys.readouterr().out
    assert "stack qa: refused" in out
    assert "2 problems in the tenant-storage inputs" in out
    assert "tenants[0] field 'orgId'" in out
    assert "field 'profile'" in out


def test_an_unknown_stack_exits_1(capsys):
    assert plan.main(["--stack", "staging"]) == 1
    assert "no Pulumi.staging.yaml" in capsys.readouterr().err
