// A failed run from the GitLab pipeline or job page the user is on: the pipeline's test
// report read through GitLab's REST API with the user's token (from extension storage).

/**
 * `{ project, pipeline }` or `{ project, job }` for a pipeline or job page under `base`
 * (the user's GitLab URL), null for any other page.
 */
export function gitlabPage(pageUrl, base) {
  if (!pageUrl || !base) return null;
  let page;
  let root;
  try {
    page = new URL(pageUrl);
    root = new URL(base);
  } catch {
    return null;
  }
  if (page.origin !== root.origin) return null;
  const prefix = root.pathname.replace(/\/+$/, '');
  if (!page.pathname.startsWith(`${prefix}/`)) return null;
  const m = /^\/(.+?)\/-\/(pipelines|jobs)\/(\d+)(?:\/[^?#]*)?$/.exec(page.pathname.slice(prefix.length));
  if (!m) return null;
  const project = decodeURIComponent(m[1]);
  return m[2] === 'pipelines' ? { project, pipeline: Number(m[3]) } : { project, job: Number(m[3]) };
}

class GitlabFailure extends Error {}

async function api(base, token, path) {
  const url = `${base.replace(/\/+$/, '')}/api/v4${path}`;
  let response;
  try {
    response = await fetch(url, { headers: { 'PRIVATE-TOKEN': token, Accept: 'application/json' }, credentials: 'omit', cache: 'no-store' });
  } catch {
    throw new GitlabFailure(`GitLab at ${new URL(url).origin} cannot be reached: check the network and the GitLab URL in the options.`);
  }
  if (response.status === 401) throw new GitlabFailure('GitLab refused the access token (401): set a token with the read_api scope in the options.');
  if (response.status === 404) throw new GitlabFailure('GitLab has no such project or pipeline, or the token may not read it (404).');
  if (!response.ok) throw new GitlabFailure(`GitLab answered ${response.status} for ${path.split('?')[0]}.`);
  return response.json();
}

/** The pipeline (with its web URL) and its failed tests, newest report first. */
export async function failedTestsOfPage(page, base, token) {
  if (!token) throw new GitlabFailure('No GitLab token yet: add one in the options.');
  const project = encodeURIComponent(page.project);
  const pipelineId = page.pipeline ?? (await api(base, token, `/projects/${project}/jobs/${page.job}`)).pipeline.id;
  const pipeline = await api(base, token, `/projects/${project}/pipelines/${pipelineId}`);
  const report = await api(base, token, `/projects/${project}/pipelines/${pipelineId}/test_report`);
  const failed = [];
  for (const suite of report.test_suites ?? []) {
    for (const test of suite.test_cases ?? []) {
      if (test.status === 'failed' || test.status === 'error') failed.push({ ...test, suite: suite.name });
    }
  }
  return { pipeline, failed };
}

/** The auto-fill run of one failed test of a GitLab test report. */
export function runFromGitlabTest(test, pipeline) {
  const output = (test.system_output ?? '').trim();
  const message = output.split('\n', 1)[0] || null;
  // GitLab puts the failure message in system_output; the trace only when there is more.
  const details = test.stack_trace || (output !== message ? output : null);
  const build = `pipeline #${pipeline.id}${pipeline.ref ? ` (${pipeline.ref})` : ''}`;
  return {
    test_run: {
      name: test.classname ? `${test.classname}.${test.name}` : test.name,
      status: test.status,
      build,
      build_url: pipeline.web_url,
      link: pipeline.web_url,
      properties: [{ name: 'suite', value: test.suite }, ...(test.file ? [{ name: 'file', value: test.file }] : [])],
    },
    test_case: { name: test.name, properties: [{ name: 'classname', value: test.classname ?? '' }] },
    test_log: {
      status: test.status,
      message,
      details,
      build,
      build_url: pipeline.web_url,
    },
    source_format: 'plain',
  };
}
