"""The pull-request summary stays readable at fleet scale: changed tenants in full, unchanged ones as a
count, and never more than 60 KiB (GitHub drops a job summary over 1 MiB)."""

import subprocess

import pytest
from markdown_it import MarkdownIt

from cli.main import main
from review.render import MARKDOWN_LIMIT, bounded

# Fleets of hundreds of tenants planned against a git base: `make test` only.
pytestmark = pytest.mark.slow


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def fleet(project, size: int) -> None:
    lines = ["tenants:"] + [f"  - orgId: t{n:04d}\n    environment: qa" for n in range(size)]
    lines += ["  - orgId: p0\n    environment: production"]
    (project / "tenants.yaml").write_text("\n".join(lines) + "\n")


def test_against_a_base_only_the_changed_tenant_is_shown_in_full(project, capsys):
    fleet(project, 30)
    git(project, "init", "-q", "-b", "main")
    git(project, "-c", "user.name=t", "-c", "user.email=t@e", "add", ".")
    git(project, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "base")
    (project / "tenants.yaml").write_text(
        (project / "tenants.yaml").read_text() + "  - orgId: newco\n    environment: qa\n"
    )
    main(["plan", "--stack", "qa", "--base", "HEAD", "--format", "markdown", "--full"], project_dir=project)
    out = capsys.readouterr().out
    assert "<code>newco</code>" in out
    assert "<code>t0001</code>" not in out
    assert "30 unchanged tenants are not shown." in out
    main(["plan", "--stack", "qa", "--base", "HEAD", "--format", "markdown"], project_dir=project)
    incremental = capsys.readouterr().out
    assert "<code>newco</code>" in incremental
    assert "incremental: the program and every input but tenants.yaml are the same" in incremental


def test_a_summary_never_exceeds_60_kib_and_says_where_the_rest_is(project, capsys):
    fleet(project, 300)
    main(["plan", "--stack", "qa", "--format", "markdown"], project_dir=project)
    out = capsys.readouterr().out
    assert len(out.encode()) <= MARKDOWN_LIMIT
    assert "**Truncated**" in out
    assert "`plan.json` artifact" in out
    html = MarkdownIt("gfm-like").render(out)
    assert "<strong>Truncated</strong>" in html  # the note is not swallowed by an open block


def test_a_short_summary_is_left_alone():
    assert bounded("# plan\n\nsmall\n") == "# plan\n\nsmall\n"


def test_risks_count_within_the_bound_even_when_there_are_many(project, capsys):
    """40 profile switches make 80 risk lines; the whole summary, risks first, stays within 60 KiB."""
    lines = ["tenants:"] + [f"  - orgId: t{n:03d}\n    environment: qa\n    profile: app-storage" for n in range(40)]
    lines += ["  - orgId: p0\n    environment: production"]
    (project / "tenants.yaml").write_text("\n".join(lines) + "\n")
    git(project, "init", "-q", "-b", "main")
    git(project, "-c", "user.name=t", "-c", "user.email=t@e", "add", ".")
    git(project, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "base")
    (project / "tenants.yaml").write_text("\n".join(lines).replace("app-storage", "media-gallery") + "\n")
    main(["plan", "--stack", "qa", "--base", "HEAD", "--format", "markdown"], project_dir=project)
    out = capsys.readouterr().out
    assert len(out.encode()) <= MARKDOWN_LIMIT
    assert out.startswith("# Offline plan of tenant-storage\n\nBase `HEAD` (")
    assert "\n\n## Risks\n\n| class | count |" in out[:300]
    assert "| data-loss | 40 |" in out
    assert "| newly-public | 40 |" in out
    html = MarkdownIt("gfm-like").render(out)
    assert "more risks are not shown here" in html or "<strong>Truncated</strong>" in html
