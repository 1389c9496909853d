"""The public scorecard (SPEC §13): what it shows, what it never shows, when it is off,
its caching, its languages and its workspaces. Plain HTTP into the sandbox's WSGI app."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.emulator.sandbox import Sandbox
from bot.public import scorecard_data
from bot.public.scorecard_data import Extras, GroupInput, group_figures
from storage.tenancy import tenant
from tests.support.digest import seed_week
from tests.support.public import PUBLIC_ROUTES, fetch, go_public, public_initiative
from tests.support.workspaces import SCHOOL, TEAM_A, TEAM_B, setup_both
from tests.support.world import ADMIN, PEOPLE, import_example

MEASURES = ("First-trimester prenatal visits", "Families enrolled in home visiting")
# A group too small to publish, with a value no page may ever show.
SUPPRESSED_VALUE = 13.37


def _with_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Equity gaps for prenatal visits, set directly (tests/scenarios/test_public_rba.py
    goes through issue 16's own reporting): two groups large enough to show and one below
    min_group (its value must never appear)."""
    groups = group_figures([
        GroupInput("race-ethnicity", "Black", 64.0, 40),
        GroupInput("race-ethnicity", "White", 78.0, 120),
        GroupInput("race-ethnicity", "Asian", SUPPRESSED_VALUE, 7),
    ], min_group=20, unit="%", direction="up")
    story = scorecard_data.Story("2026-10", helping="Evening clinic hours",
                                 hurting="Bus route 7 was cut", proposal="A shuttle")
    monkeypatch.setattr(scorecard_data, "_rba_extras", lambda *_args: {
        "prenatal-visits": Extras(verdict="beating", groups=groups, story=story,
                                  headline=True)})


def test_every_public_route_is_404_when_the_initiative_keeps_them_off(
        sandbox: Sandbox) -> None:
    seed_week(sandbox.store)
    for path in (*PUBLIC_ROUTES, "/scorecard?lang=es", "/w/T0HEALTH/scorecard"):
        assert fetch(sandbox, path).status == 404, path
    assert fetch(sandbox, "/voice", method="POST", form={"message": "hi"}).status == 404


def test_scorecard_only_or_voice_only_turns_on_just_that(sandbox: Sandbox,
                                                         tmp_path: Path) -> None:
    go_public(sandbox, tmp_path, scorecard=False, voice=True)
    assert fetch(sandbox, "/voice").status == 200
    for path in PUBLIC_ROUTES[:-1]:
        assert fetch(sandbox, path).status == 404, path
    go_public(sandbox, tmp_path, scorecard=True, voice=False)
    assert fetch(sandbox, "/voice").status == 404
    assert fetch(sandbox, "/voice", method="POST", form={"message": "hi"}).status == 404
    assert fetch(sandbox, "/scorecard").status == 200


def test_scorecard_shows_each_measure_with_its_curve_table_coverage_and_rba_slots(
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    go_public(sandbox, tmp_path)
    seed_week(sandbox.store)
    _with_groups(monkeypatch)

    page = fetch(sandbox, "/scorecard")
    assert page.status == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "Every child in Lake County is born healthy" in html  # the agenda
    for name in MEASURES:
        assert name in html
    # Headline measures lead.
    assert html.index("First-trimester prenatal visits") < html.index("Diaper")
    # Headline measures in full: the curve, an SVG with its title and description, and
    # the table beside it.
    assert html.count("<svg") >= 1 and "<title id=" in html and "<desc id=" in html
    # Every other measure is a row of one table, linking to its own page with its curve.
    others = html[html.index("All other shared measures"):]
    assert re.search(
        r'href="[^"]*/scorecard/home-visits[^"]*">Families enrolled in home visiting</a>', others)
    assert "<svg" not in others
    home_visits = fetch(sandbox, "/scorecard/home-visits").text
    assert "<svg" in home_visits and "Dotted line: forecast if nothing changes" in home_visits
    assert "Figures by period: First-trimester prenatal visits" in html
    # October's prenatal figure is North Clinic-less: partial coverage, said and drawn.
    assert "Oct 2026, 1 of 2 partners reported" in html
    assert "Hollow circle: not every partner reported" in html
    assert "Target: 80%" in html and "Baseline: 61%." in html
    # What issue 16 provides is shown when present.
    assert "Beating the baseline" in html
    assert "fewer than 20" in html and "Black" in html and "−14 pts" in html
    assert "Bus route 7 was cut" in html

    measure = fetch(sandbox, "/scorecard/prenatal-visits")
    assert measure.status == 200 and "<h1>First-trimester prenatal visits</h1>" in measure.text
    assert "/scorecard/prenatal-visits/embed" in measure.text
    assert fetch(sandbox, "/scorecard/no-such-measure").status == 404


def test_csv_and_json_hold_the_aggregates_and_suppressed_groups_without_values(
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    go_public(sandbox, tmp_path)
    seed_week(sandbox.store)
    _with_groups(monkeypatch)

    csv_page = fetch(sandbox, "/scorecard.csv")
    assert csv_page.headers["content-type"].startswith("text/csv")
    lines = csv_page.text.splitlines()
    assert lines[0].startswith("measure_key,measure,unit,period,value,partners_reporting")
    assert "prenatal-visits,First-trimester prenatal visits,%,2026-10,74.0,1,2" in csv_page.text
    assert any(",race-ethnicity,Asian,,20" in line for line in lines)

    document = json.loads(fetch(sandbox, "/scorecard.json").body)
    prenatal = next(m for m in document["measures"] if m["key"] == "prenatal-visits")
    assert prenatal["verdict"] == "beating"
    assert prenatal["points"][-1] == {"period": "2026-10", "value": 74.0,
                                      "partners_reporting": 1, "partners_assigned": 2}
    asian = next(g for g in prenatal["groups"] if g["group"] == "Asian")
    assert asian == {"dimension": "race-ethnicity", "group": "Asian", "value": None,
                     "gap": None, "suppressed_below": 20}


def test_no_public_response_names_a_person_or_shows_a_suppressed_value(
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    go_public(sandbox, tmp_path)
    seed_week(sandbox.store)
    _with_groups(monkeypatch)
    # Someone's voice, approved: the count is public, never who sent it.
    sandbox.driver.command("U0DDD", "voice More evening hours please")
    sandbox.settle()

    forbidden = {ADMIN}
    for user_id, (name, _tz) in PEOPLE.items():
        forbidden |= {user_id, name, name.split()[0]}
    value_forms = {str(SUPPRESSED_VALUE), "13,37", "13.4", "13,4"}
    seen = 0
    for path in PUBLIC_ROUTES:
        for lang in ("en", "es"):
            for method in ("GET", "HEAD"):
                page = fetch(sandbox, f"{path}?lang={lang}", method=method)
                assert page.status == 200, path
                everything = page.text + json.dumps(page.headers)
                for word in forbidden | value_forms:
                    assert not re.search(rf"\b{re.escape(word)}\b", everything), (path, word)
                seen += 1
    assert seen == len(PUBLIC_ROUTES) * 4
    # The test can fail: the suppressed group's label is there, its value is not.
    assert "fewer than 20" in fetch(sandbox, "/scorecard").text


def test_a_repeat_is_a_304_until_a_figure_changes(sandbox: Sandbox, tmp_path: Path) -> None:
    go_public(sandbox, tmp_path)
    seed_week(sandbox.store)
    first = fetch(sandbox, "/scorecard")
    etag, modified = first.headers["etag"], first.headers["last-modified"]

    again = fetch(sandbox, "/scorecard", headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b"" and again.headers["etag"] == etag
    assert fetch(sandbox, "/scorecard", headers={"If-Modified-Since": modified}).status == 304
    # Another representation (Spanish) is another entity.
    spanish = fetch(sandbox, "/scorecard?lang=es", headers={"If-None-Match": etag})
    assert spanish.status == 200 and spanish.headers["etag"] != etag

    sandbox.driver.command("U0CCC", "report prenatal-visits 70 for October 2026")
    sandbox.settle()
    changed = fetch(sandbox, "/scorecard", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["etag"] != etag
    assert "Oct 2026, 2 of 2 partners reported" in changed.text


def test_language_from_the_query_or_the_browser_among_those_offered(
        sandbox: Sandbox, tmp_path: Path) -> None:
    go_public(sandbox, tmp_path)
    seed_week(sandbox.store)
    spanish = fetch(sandbox, "/scorecard?lang=es").text
    assert '<html lang="es">' in spanish and "Meta: 80%" in spanish
    assert "oct 2026: informaron 1 de 2 socios" in spanish
    browser = fetch(sandbox, "/scorecard", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert '<html lang="es">' in browser.text
    assert browser.headers["vary"] == "Accept-Language"
    english = fetch(sandbox, "/scorecard", headers={"Accept-Language": "fr, en;q=0.4"})
    assert '<html lang="en">' in english.text

    go_public(sandbox, tmp_path, languages=("en",))
    only_english = fetch(sandbox, "/scorecard?lang=es").text
    assert '<html lang="en">' in only_english and "Español" not in only_english


def test_embed_is_frameable_and_the_other_pages_are_not(sandbox: Sandbox,
                                                        tmp_path: Path) -> None:
    go_public(sandbox, tmp_path)
    seed_week(sandbox.store)
    embed = fetch(sandbox, "/scorecard/prenatal-visits/embed")
    assert "x-frame-options" not in embed.headers
    assert "frame-ancestors" not in embed.headers["content-security-policy"]
    page = fetch(sandbox, "/scorecard")
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text and "<script" not in embed.text


def test_names_from_the_initiative_file_are_escaped(sandbox: Sandbox, tmp_path: Path) -> None:
    path = public_initiative(tmp_path)
    text = path.read_text().replace("First-trimester prenatal visits",
                                    "Visits <script>alert(1)</script> & more")
    path.write_text(text)
    import_example(sandbox.store, path=path)
    html = fetch(sandbox, "/scorecard").text
    assert "<script>" not in html
    assert "Visits &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html


def test_each_workspace_has_its_own_pages_under_its_team_id(multi: Sandbox,
                                                            tmp_path: Path) -> None:
    setup_both(multi)
    with tenant(TEAM_A):
        import_example(multi.store, path=public_initiative(tmp_path))
    with tenant(TEAM_B):
        import_example(multi.store, path=public_initiative(tmp_path, source=SCHOOL))

    health = fetch(multi, f"/w/{TEAM_A}/scorecard").text
    school = fetch(multi, f"/w/{TEAM_B}/scorecard").text
    assert "Healthy Starts Lake County" in health and "Ready for School" not in health
    assert "Ready for School Riverside" in school and "Lake County" not in school
    assert f'href="/w/{TEAM_B}/scorecard/storytime?lang=en"' in school
    assert fetch(multi, f"/w/{TEAM_B}/scorecard/prenatal-visits").status == 404
    assert fetch(multi, "/scorecard").status == 404  # no workspace named: nothing
    assert fetch(multi, "/w/T0NOBODY/scorecard").status == 404
    # The ETag of one workspace is not the other's.
    assert (fetch(multi, f"/w/{TEAM_A}/scorecard.json").headers["etag"]
            != fetch(multi, f"/w/{TEAM_B}/scorecard.json").headers["etag"])


def test_the_scorecard_figures_are_the_digests(sandbox: Sandbox, tmp_path: Path) -> None:
    from bot.digest.data import build_digest
    from bot.public.figures import measure_lines
    from bot.runtime.caller import load_initiative

    go_public(sandbox, tmp_path)
    seed_week(sandbox.store)
    sandbox.driver.command("U0CCC", "report prenatal-visits 70 for October 2026")
    sandbox.driver.command("U0CCC", "report prenatal-visits 71 for October 2026")  # corrected
    sandbox.settle()
    with sandbox.store.session() as session:
        digest = build_digest(session, sandbox.clock.now())
        initiative = load_initiative(session)
        assert digest is not None and initiative is not None
        lines = measure_lines(session, initiative, sandbox.clock.now())

    def figures(line: object) -> tuple[object, ...]:
        return tuple(getattr(line, name) for name in (
            "key", "values", "coverage", "change", "change_partners", "assigned", "periods"))

    assert [figures(line) for line in lines] == [figures(line) for line in digest.measures]
    assert any(v is not None for line in lines for v in line.values)
