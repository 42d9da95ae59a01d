"""python-gitlab, unmodified, against the GitLab simulator: projects, pipelines, jobs
(paged through the Link header), a job's artifact file, the pipeline's test report,
and a wrong token."""

from __future__ import annotations

import gitlab
import gitlab.exceptions


def run(url: str, token: str, project_path: str) -> None:
    gl = gitlab.Gitlab(url, private_token=token)

    project = gl.projects.get(project_path)
    assert project.path_with_namespace == project_path, project.path_with_namespace
    same = gl.projects.get(project.id)
    assert same.default_branch == "main"

    pipelines = project.pipelines.list(get_all=True)
    assert [p.id for p in pipelines] == [1001], [p.id for p in pipelines]
    pipeline = project.pipelines.get(1001)
    assert (pipeline.status, pipeline.ref) == ("failed", "main"), pipeline.status

    # One job per page: python-gitlab must follow the Link header to see both.
    jobs = pipeline.jobs.list(get_all=True, per_page=1)
    assert sorted(j.name for j in jobs) == ["lint", "unit-tests"], [j.name for j in jobs]
    unit = project.jobs.get(next(j.id for j in jobs if j.name == "unit-tests"))
    assert unit.status == "failed"
    listed = unit.attributes["artifacts"]
    assert any(a["file_type"] == "archive" for a in listed), listed

    junit = unit.artifact("junit.xml")
    assert junit.startswith(b"<?xml") and b"pays by card" in junit, junit[:80]
    png = unit.artifact("screenshots/login.png")
    assert png.startswith(b"\x89PNG"), png[:8]
    try:
        unit.artifact("missing.xml")
        raise AssertionError("a missing artifact file was served")
    except gitlab.exceptions.GitlabGetError as e:
        assert e.response_code == 404, e.response_code

    report = pipeline.test_report.get()
    assert (report.total_count, report.success_count, report.failed_count) == (3, 2, 1), (
        report.total_count,
        report.success_count,
        report.failed_count,
    )
    suite = report.test_suites[0]
    assert suite["name"] == "unit-tests"
    failed = [c for c in suite["test_cases"] if c["status"] == "failed"]
    assert [c["name"] for c in failed] == ["logs in"], failed

    wrong = gitlab.Gitlab(url, private_token="not-the-token")
    try:
        wrong.projects.get(project.id)
        raise AssertionError("a wrong token was accepted")
    except gitlab.exceptions.GitlabAuthenticationError as e:
        assert e.response_code == 401
    print("python-gitlab scenario: projects, pipelines, paged jobs, artifacts, test report, 401: ok")
