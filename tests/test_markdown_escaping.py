"""The pull-request summary echoes values from the inputs under review: none of them can change its markup.

Renderings are checked with markdown-it-py's GFM-like preset (tables, strikethrough, autolinks and raw HTML, as on
GitHub) by reading the HTML it makes: a hostile value must give the same elements as a harmless one does in the
same place, and be shown verbatim where the harmless one was (line endings as ␤, which keeps each value on its line).
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from review.diff import ResourceChange, StackDiff, StatementChange
from review.plan import PolicyViolation, StackPlan, TenantPlan
from review.render import markdown_code, markdown_html, markdown_word, render_json, render_markdown, render_text

GFM = MarkdownIt("gfm-like")
BUCKET_TYPE = "aws:s3/bucket:Bucket"
BUCKET_URN = f"urn:pulumi:prod::tenant-storage::tenant-storage:index:TenantStorage${BUCKET_TYPE}::acme-bucket"
USER_POLICY_URN = BUCKET_URN.rsplit("$", 1)[0] + "$aws:iam/userPolicy:UserPolicy::acme-user-policy"
HARMLESS = "harmless value"
# Every way out at once: close the code span and fake a verdict, split the table row, inject HTML, close a fenced
# block, end the line (list item, table row, HTML block), and add a link and emphasis on the lines after.
HOSTILE = "qa` **All checks passed** | <script>alert(1)</script>\n```\n\n- [merge me](https://evil.example) _now_ `"

TENANT = TenantPlan(
    org_id="acme",
    bucket_name="fusion-rms-acme",
    public_base_url="https://fusion-rms-acme.s3.us-east-1.amazonaws.com/pub/",
    profile="media-gallery",
    environment="production",
    iam_user_name="rms_acme",
    user_policy={"Version": "2012-10-17", "Statement": [{"Sid": "TenantObjects", "Effect": "Allow"}]},
    bucket_policy={"Version": "2012-10-17", "Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny"}]},
    mocked_suffix=False,
    resource_urns=[BUCKET_URN],
)
PLAN = StackPlan(stack="prod", tenants=[TENANT])
NO_CHANGE = StackDiff(
    stack="prod",
    base_errors=[],
    tenants_added=[],
    tenants_removed=[],
    tenants_changed={},
    resources=[],
    statements=[],
)


def shown(text: str) -> str:
    """How a value must read in the rendered summary: as it is, on one line (NUL as U+FFFD, as CommonMark says)."""
    return re.sub(r"\r\n|\r|\n", "␤", text).replace("\0", "\ufffd")


class Html(HTMLParser):
    """The start tags, the text of each <code> and of each table cell, and all the text of some rendered HTML."""

    def __init__(self, rendered: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.codes: list[str] = []
        self.cells: list[str] = []
        self.text = ""
        self._code: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(rendered)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "code":
            self._code = []
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "code" and self._code is not None:
            self.codes.append("".join(self._code))
            self._code = None
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text += data
        for buffer in (self._code, self._cell):
            if buffer is not None:
                buffer.append(data)


def gfm(markdown: str) -> Html:
    return Html(GFM.render(markdown))


def summary(plans: list[StackPlan], diffs: list[StackDiff]) -> Html:
    return gfm(render_markdown(plans, diffs))


Rendering = tuple[list[StackPlan], list[StackDiff]]


def in_plan(name: str, make: Callable[[str], Any]) -> Callable[[str], Rendering]:
    """Where a field of the stack's plan is made from the value."""
    return lambda value: ([replace(PLAN, **{name: make(value)})], [])


def in_tenant(name: str, *, listed: bool = False, **fixed: Any) -> Callable[[Any], Rendering]:
    """Where a field of the stack's one tenant is the value (or, `listed`, holds it alone)."""
    return lambda value: (
        [replace(PLAN, tenants=[replace(TENANT, **{name: [value] if listed else value, **fixed})])],
        [],
    )


def in_diff(name: str, make: Callable[[str], Any], **fixed: Any) -> Callable[[str], Rendering]:
    """Where a field of the stack's diff against the base revision is made from the value."""
    return lambda value: ([PLAN], [replace(NO_CHANGE, **{name: make(value)}, **fixed)])


@dataclass(frozen=True)
class Position:
    render: Callable[[str], Rendering]
    # A value inside a JSON document is shown JSON-encoded (its line endings as \n, not ␤).
    in_json: bool = False
    in_table: bool = False

    def shows(self, value: str) -> str:
        return json.dumps(value)[1:-1] if self.in_json else shown(value)


def lost_bucket(urn: str) -> list[ResourceChange]:
    return [ResourceChange(urn, BUCKET_TYPE, "acme", "delete", data_loss=True)]


def protected_bucket(urn: str) -> list[ResourceChange]:
    return [ResourceChange(urn, BUCKET_TYPE, "acme", "delete", blocked_by_protection=True)]


def replaced_bucket(changed_property: str) -> list[ResourceChange]:
    return [ResourceChange(BUCKET_URN, BUCKET_TYPE, "acme", "replace", [changed_property], data_loss=True)]


# The summary lists statements only in a diff that changes some resource, as a changed policy always does.
POLICY_UPDATED = [ResourceChange(USER_POLICY_URN, "aws:iam/userPolicy:UserPolicy", "acme", "update", ["policy"])]


def violation(urn: str = BUCKET_URN, message: str = "no encryption") -> list[PolicyViolation]:
    return [PolicyViolation("bucket-encryption", "mandatory", urn, message)]


POSITIONS = {
    "stack name": Position(lambda value: ([replace(PLAN, stack=value)], [])),
    "problem of a refused stack": Position(in_plan("errors", lambda value: [value])),
    "orgId (table and details summary)": Position(in_tenant("org_id"), in_table=True),
    "bucket name (table and facts)": Position(in_tenant("bucket_name"), in_table=True),
    "bucket name with a mocked suffix": Position(in_tenant("bucket_name", mocked_suffix=True), in_table=True),
    "public base URL": Position(in_tenant("public_base_url")),
    "profile": Position(in_tenant("profile"), in_table=True),
    "environment": Position(in_tenant("environment"), in_table=True),
    "IAM user name": Position(in_tenant("iam_user_name"), in_table=True),
    "resource URN": Position(in_tenant("resource_urns", listed=True)),
    "policy violation message": Position(in_plan("violations", lambda value: violation(message=value))),
    "policy violation URN": Position(in_plan("violations", lambda value: violation(urn=value))),
    "error of the base revision": Position(in_diff("base_errors", lambda value: [value])),
    "URN of a bucket lost": Position(in_diff("resources", lost_bucket), in_table=True),
    "URN of a protected resource": Position(in_diff("resources", protected_bucket), in_table=True),
    "property forcing a replacement": Position(in_diff("resources", replaced_bucket), in_table=True),
    "property updated": Position(
        in_diff("resources", lambda value: [ResourceChange(BUCKET_URN, BUCKET_TYPE, "acme", "update", [value])]),
        in_table=True,
    ),
    "resource type": Position(
        in_diff("resources", lambda value: [ResourceChange(BUCKET_URN, value, "acme", "create")]), in_table=True
    ),
    "tenant added": Position(in_diff("tenants_added", lambda value: [value])),
    "tenant removed": Position(in_diff("tenants_removed", lambda value: [value])),
    "tenant changed": Position(
        in_diff("tenants_changed", lambda value: {value: {"profile": ["media-gallery", "upload-only"]}})
    ),
    "old value of a tenant field": Position(
        in_diff("tenants_changed", lambda value: {"acme": {"profile": [value, "upload-only"]}})
    ),
    "new value of a tenant field": Position(
        in_diff("tenants_changed", lambda value: {"acme": {"profile": ["media-gallery", value]}})
    ),
    "tenant of a policy statement": Position(
        in_diff(
            "statements",
            lambda value: [StatementChange(value, "user", "added", {"Sid": "TenantObjects"})],
            resources=POLICY_UPDATED,
        )
    ),
    "policy statement": Position(
        in_diff(
            "statements",
            lambda value: [StatementChange("acme", "user", "added", {"Sid": value})],
            resources=POLICY_UPDATED,
        ),
        in_json=True,
    ),
}


TABLE_POSITIONS = [name for name, position in POSITIONS.items() if position.in_table]


@pytest.fixture(params=list(POSITIONS))
def position(request: pytest.FixtureRequest) -> Position:
    return POSITIONS[request.param]


@pytest.fixture(params=TABLE_POSITIONS)
def table_position(request: pytest.FixtureRequest) -> Position:
    return POSITIONS[request.param]


class TestEveryEchoedValue:
    """A hostile value, wherever the summary echoes it, renders like a harmless one in the same place."""

    def test_adds_no_element(self, position):
        harmless, hostile = summary(*position.render(HARMLESS)), summary(*position.render(HOSTILE))
        assert not {"strong", "em", "a", "script", "li"} & (set(hostile.tags) - set(harmless.tags))
        assert hostile.tags == harmless.tags

    def test_is_shown_verbatim_where_a_harmless_one_is(self, position):
        harmless, hostile = summary(*position.render(HARMLESS)), summary(*position.render(HOSTILE))
        expected = [code.replace(position.shows(HARMLESS), position.shows(HOSTILE)) for code in harmless.codes]
        assert hostile.codes == expected
        assert any(position.shows(HOSTILE) in code for code in hostile.codes)

    def test_in_a_table_leaves_every_cell_in_place(self, table_position):
        position = table_position
        harmless, hostile = summary(*position.render(HARMLESS)), summary(*position.render(HOSTILE))
        assert hostile.cells == [
            cell.replace(position.shows(HARMLESS), position.shows(HOSTILE)) for cell in harmless.cells
        ]


class TestEachWayOut:
    """One attack at a time, in the place where a reviewer would be fooled by it."""

    def test_a_backtick_cannot_close_the_code_span_and_fake_a_verdict(self):
        rendered = summary(*in_tenant("environment")("qa` **All checks passed**"))
        assert "strong" not in rendered.tags
        assert rendered.codes.count("qa` **All checks passed**") == 2  # the table and the tenant's facts

    def test_a_pipe_cannot_add_a_table_cell(self):
        rendered = summary(*in_tenant("bucket_name")("fusion | rms | acme"))
        assert rendered.cells[6:] == ["acme", "fusion | rms | acme", "media-gallery", "production", "rms_acme", "1"]

    def test_a_line_break_cannot_end_the_list_item(self):
        rendered = summary(*in_plan("errors", lambda value: [value])("first problem\n- second\n\n# All good"))
        assert rendered.tags.count("li") == 1
        assert rendered.tags.count("h1") == 1  # the title
        assert rendered.codes == ["prod", "first problem␤- second␤␤# All good"]

    def test_markup_cannot_leave_the_details_summary(self):
        org_id = 'acme"><img src=x onerror=alert(1)></code></summary>'
        rendered = summary(*in_tenant("org_id")(org_id))
        assert "img" not in rendered.tags
        assert rendered.tags.count("summary") == 1
        assert rendered.codes.count(org_id) == 2  # the table and the details summary

    def test_a_blank_line_cannot_end_the_details_html_block(self):
        rendered = summary(*in_tenant("org_id")("acme\n\n**approved**"))
        assert "strong" not in rendered.tags
        assert "acme␤␤**approved**" in rendered.codes

    def test_a_line_of_backticks_cannot_close_the_resource_list(self):
        rendered = summary(*in_tenant("resource_urns", listed=True)(f"{BUCKET_URN}\n```\n**approved**"))
        assert "strong" not in rendered.tags
        assert rendered.codes[-1] == f"{BUCKET_URN}␤```␤**approved**\n"

    def test_a_policy_block_is_fenced_longer_than_any_backtick_run_in_it(self):
        policy = {"Statement": [{"Sid": "`````"}]}
        markdown = render_markdown(*in_tenant("user_policy")(policy))
        assert "``````json" in markdown.splitlines()
        assert json.dumps(policy, indent=2) + "\n" in Html(GFM.render(markdown)).codes


texts = st.one_of(st.text(alphabet="` |\\\n\r\t<>&*_~[]()!#-.:@a\0␤", min_size=1), st.text(min_size=1))


class TestMarkdownCode:
    """markdown_code(text) is one inline code span showing exactly `text`, with line endings as ␤."""

    def test_plain_text_is_fenced_by_single_backticks(self):
        assert markdown_code("prod") == "`prod`"

    def test_the_fence_is_one_longer_than_the_longest_backtick_run(self):
        assert markdown_code("a `` b ` c") == "```a `` b ` c```"

    @pytest.mark.parametrize(
        ("text", "span"), [("`a", "`` `a ``"), ("a`", "`` a` ``"), (" a ", "`  a  `"), (" a", "`  a `")]
    )
    def test_a_backtick_or_space_at_either_end_is_padded_on_both_sides(self, text, span):
        assert markdown_code(text) == span

    def test_text_of_spaces_only_is_not_padded_since_renderers_keep_it_whole(self):
        assert markdown_code("  ") == "`  `"

    def test_line_endings_become_a_visible_marker(self):
        assert markdown_code("a\r\nb\nc\rd") == "`a␤b␤c␤d`"

    def test_empty_text_renders_nothing_as_no_code_span_can_be_empty(self):
        assert markdown_code("") == ""

    def test_pipes_are_escaped_in_a_table_cell_only(self):
        assert (markdown_code("a|b"), markdown_code("a|b", table_cell=True)) == ("`a|b`", "`a\\|b`")

    @settings(max_examples=500, deadline=None)
    @given(text=texts)
    @example(text="` a `")
    @example(text=" \t ")
    @example(text="a\\")
    def test_any_text_is_one_code_span_that_shows_it_exactly(self, text):
        rendered = gfm(f"value: {markdown_code(text)}.")
        assert rendered.tags == ["p", "code"]
        assert rendered.codes == [shown(text)]
        assert rendered.text == f"value: {shown(text)}.\n"

    @settings(max_examples=500, deadline=None)
    @given(text=texts)
    @example(text="a\\|b")
    @example(text="|")
    def test_any_text_stays_in_its_table_cell(self, text):
        rendered = gfm(f"| value | next |\n| --- | --- |\n| {markdown_code(text, table_cell=True)} | next |\n")
        assert rendered.tags == ["table", "thead", "tr", "th", "th", "tbody", "tr", "td", "code", "td"]
        assert rendered.cells == ["value", "next", shown(text), "next"]
        assert rendered.codes == [shown(text)]


class TestMarkdownHtml:
    """markdown_html(text) is text for inside an HTML element of the summary, shown exactly (line endings as ␤)."""

    def test_markup_is_escaped(self):
        assert markdown_html("<b>&'\"</b>") == "&lt;b&gt;&amp;&#x27;&quot;&lt;/b&gt;"

    @settings(max_examples=500, deadline=None)
    @given(text=texts)
    @example(text="a\n\n**b**")
    def test_any_text_stays_in_its_element(self, text):
        rendered = gfm(f"<details><summary><code>{markdown_html(text)}</code>: x</summary>\n\nbody\n\n</details>\n")
        assert rendered.tags == ["details", "summary", "code", "p"]
        assert rendered.codes == [shown(text)]


class TestMarkdownWord:
    """markdown_word(name) keeps a bare name plain, as the summary always showed it, and code-spans anything else."""

    @pytest.mark.parametrize("name", ["bucket", "user-policy", "bucket_name", "MANDATORY", "s3"])
    def test_a_bare_word_stays_plain_text(self, name):
        assert markdown_word(name) == name

    @pytest.mark.parametrize(
        "name", ["www.evil.example", "https://evil.example", "x@evil.example", "_now_", "*now*", "~~old~~", "a b"]
    )
    def test_anything_else_is_a_code_span_and_so_neither_link_nor_emphasis(self, name):
        assert markdown_word(name) == markdown_code(name)
        rendered = gfm(f"changes {markdown_word(name)}")
        assert (rendered.tags, rendered.codes) == (["p", "code"], [name])


class TestOtherFormats:
    def test_text_and_json_still_show_values_as_they_are(self):
        plans, diffs = in_tenant("environment")(HOSTILE)
        assert f"    environment: {HOSTILE}\n" in render_text(plans, diffs)
        assert json.loads(render_json(plans, diffs))["stacks"]["prod"]["tenants"][0]["environment"] == HOSTILE


class TestThroughTheRealPlan:
    def test_a_hostile_environment_in_tenants_yaml_cannot_fake_a_verdict(self, project, capsys):
        from cli.main import main
        from tests.conftest import replace_in

        replace_in("tenants.yaml", "environment: qa", "environment: 'qa` **All checks passed**'")(project)
        assert main(["plan", "--stack", "qa", "--format", "markdown"], project_dir=project) == 1
        html = GFM.render(capsys.readouterr().out)
        assert "<strong>All checks passed</strong>" not in html
        assert re.search(r"<code>[^<]*'qa` \*\*All checks passed\*\*'[^<]*</code>", html)
