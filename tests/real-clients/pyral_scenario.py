"""pyral (Rally's own Python toolkit), unmodified, against the Rally simulator over
TLS: connect with an API key and with user/password, workspace and project selection,
queries with paging and ordering, creates, updates and deletes, what Rally refuses,
test set membership, attachments up and down, type definitions and allowed values."""

from __future__ import annotations

from pathlib import Path

from pyral import Rally, RallyRESTAPIError

WORKSPACE = "Acme Workspace"
PROJECT = "Web Team"


def refused(action, *words: str) -> str:
    """Runs `action`, which Rally must refuse; returns the error text."""
    try:
        result = action()
    except RallyRESTAPIError as e:
        text = str(e)
    else:
        raise AssertionError(f"accepted, Rally refuses it: {result}")
    for w in words:
        assert w in text, f"{w!r} not in {text!r}"
    return text


def connect_and_select(rally: Rally) -> None:
    workspace = rally.getWorkspace().Name
    assert workspace == WORKSPACE, workspace
    assert rally.getProject().Name == PROJECT, rally.getProject().Name
    projects = sorted(p.Name for p in rally.getProjects(workspace=WORKSPACE))
    # The restricted project is not listed; the child project is.
    assert "Finance" not in projects, projects
    assert PROJECT in projects, projects
    assert WORKSPACE in [w.Name for w in rally.getWorkspaces()]


def queries(rally: Rally) -> list:
    created = [
        rally.create("TestCase", {"Name": f"Pays by card {i}", "Type": "Functional",
                                  "Method": "Automated"})
        for i in range(1, 13)
    ]
    numbers = [int(tc.FormattedID[2:]) for tc in created]
    # Paging: 12 items, 5 per page; pyral fetches every page.
    page = rally.get("TestCase", fetch="FormattedID,Name", order="FormattedID desc", pagesize=5)
    assert page.resultCount == 12, page.resultCount
    ids = [tc.FormattedID for tc in page]
    assert [int(i[2:]) for i in ids] == sorted(numbers, reverse=True), ids
    # FormattedID compares by number: TC10 > TC9.
    ninth = sorted(numbers)[8]
    later = rally.get("TestCase", fetch="FormattedID", query=f"FormattedID > TC{ninth}",
                      order="FormattedID")
    assert [int(tc.FormattedID[2:]) for tc in later] == sorted(numbers)[9:], [
        tc.FormattedID for tc in later]
    named = rally.get("TestCase", fetch="Name", query='Name contains "card 1"', order="Name")
    assert [tc.Name for tc in named] == ["Pays by card 1", "Pays by card 10",
                                         "Pays by card 11", "Pays by card 12"]
    return created


def updates_and_refusals(rally: Rally, cases: list) -> None:
    first = cases[0]
    renamed = rally.update("TestCase", {"FormattedID": first.FormattedID, "Name": "Pays by card"})
    assert renamed.Name == "Pays by card"
    again = rally.get("TestCase", fetch="Name", query=f"FormattedID = {first.FormattedID}").next()
    assert again.Name == "Pays by card"
    refused(lambda: rally.update("TestCase", {"FormattedID": first.FormattedID, "Method": "Bogus"}),
            "Method")
    refused(lambda: rally.create("TestCase", {"Name": "x" * 257}), "Name", "256")


def membership_and_results(rally: Rally, cases: list) -> None:
    member, outsider = cases[1], cases[2]
    test_set = rally.create("TestSet", {"Name": "Sprint-14-Automated-Tests"})
    added = rally.addCollectionItems(test_set, [member])
    assert added == [member.Name], added
    # Collection items come as references (no fetch): compare object IDs.
    members = [tc.oid for tc in rally.get(
        "TestSet", fetch="TestCases", query=f"FormattedID = {test_set.FormattedID}").next().TestCases]
    assert members == [member.oid], members
    result = rally.create("TestCaseResult", {
        "TestCase": member.ref, "TestSet": test_set.ref, "Build": "GitLab-1001",
        "Date": "2026-12-03T07:23:44.000Z", "Verdict": "Fail", "Duration": 1.5})
    assert result.Verdict == "Fail"
    refused(lambda: rally.create("TestCaseResult", {
        "TestCase": outsider.ref, "TestSet": test_set.ref, "Build": "GitLab-1001",
        "Date": "2026-12-03T07:23:44Z", "Verdict": "Pass"}), "TestSet")
    for zoneless in ["2026-12-03T07:23:44", "2026-12-03T07:23:44.123456", "2026-12-03 07:23:44"]:
        refused(lambda: rally.create("TestCaseResult", {
            "TestCase": member.ref, "Build": "GitLab-1001", "Date": zoneless,
            "Verdict": "Pass"}), "Date")
    refused(lambda: rally.update("TestCaseResult", {"ObjectID": result.oid, "Verdict": "Bogus"}),
            "Verdict")
    refused(lambda: rally.update("TestCaseResult", {"ObjectID": result.oid, "Build": None}),
            "Build")
    refreshed = rally.get("TestCase", fetch="LastVerdict,LastBuild",
                          query=f"FormattedID = {member.FormattedID}").next()
    assert (refreshed.LastVerdict, refreshed.LastBuild) == ("Fail", "GitLab-1001")


def attachments(rally: Rally, cases: list, workdir: Path) -> None:
    case = cases[3]
    log = workdir / "failure-log.txt"
    payload = b"line 1\nline 2: AssertionError\n" * 40
    log.write_bytes(payload)
    attachment = rally.addAttachment(case, str(log), mime_type="text/plain")
    assert attachment.Size == len(payload), attachment.Size
    names = rally.getAttachmentNames(rally.get(
        "TestCase", fetch=True, query=f"FormattedID = {case.FormattedID}").next())
    assert names == ["failure-log.txt"], names
    down = rally.getAttachment(case.FormattedID, "failure-log.txt")
    assert down.Content == payload, down.Content[:40]


def schema(rally: Rally) -> None:
    verdicts = rally.getAllowedValues("TestCaseResult", "Verdict")
    assert sorted(verdicts) == ["Blocked", "Error", "Fail", "Inconclusive", "Pass"], verdicts
    methods = rally.getAllowedValues("TestCase", "Method")
    assert sorted(methods) == ["Automated", "Manual"], methods
    typedef = rally.typedef("TestCase")
    assert typedef.IDPrefix == "TC" and not typedef.Abstract, typedef.IDPrefix
    assert typedef.Parent == "Artifact", typedef.Parent
    name = next(a for a in typedef.Attributes if a.ElementName == "Name")
    assert (name.Required, name.MaxLength, name.SchemaType) == (True, 256, "xsd:string")
    states = rally.getAllowedValues("Defect", "State")
    assert states == ["Submitted", "Open", "Fixed", "Closed"], states


def deletes(rally: Rally, cases: list) -> None:
    doomed = cases[-1]
    assert rally.delete("TestCase", doomed.FormattedID)
    left = rally.get("TestCase", fetch="FormattedID", query=f"FormattedID = {doomed.FormattedID}")
    assert left.resultCount == 0, left.resultCount


def run(server: str, apikey: str, user: str, password: str, workdir: Path) -> None:
    rally = Rally(server, apikey=apikey, workspace=WORKSPACE, project=PROJECT, warn=False)
    connect_and_select(rally)
    cases = queries(rally)
    updates_and_refusals(rally, cases)
    membership_and_results(rally, cases)
    attachments(rally, cases, workdir)
    schema(rally)
    deletes(rally, cases)

    # User and password: every write goes with a security token pyral fetches itself.
    basic = Rally(server, user=user, password=password, workspace=WORKSPACE, project=PROJECT,
                  warn=False)
    connect_and_select(basic)
    made = basic.create("TestCase", {"Name": "Made with a password", "Method": "Manual"})
    assert basic.get("TestCase", fetch="Name", query=f"FormattedID = {made.FormattedID}").next(
        ).Name == "Made with a password"
    print("pyral scenario: connect (API key, password), selection, paging, ordering, writes, "
          "refusals, test set membership, attachments, schema: ok")
