// A failed run from the qTest test-run page the user is on: its id from the page's
// address, then the run, its test case and latest log read by the core's
// `qtest.failed_run` session with the user's qTest token (from extension storage).

/**
 * The test run's id when `pageUrl` is a Test Execution page of a test run under `base`
 * (the user's qTest URL): `…/p/<project>/portal/project#tab=testexecution&object=3&id=<run>`;
 * null for any other page.
 */
export function qtestRunPage(pageUrl, base) {
  if (!pageUrl || !base) return null;
  let page;
  let root;
  try {
    page = new URL(pageUrl);
    root = new URL(base);
  } catch {
    return null;
  }
  if (page.origin !== root.origin || !/^\/p\/\d+\/portal\/project\/?$/.test(page.pathname)) return null;
  const hash = new URLSearchParams(page.hash.replace(/^#/, ''));
  // object=3 is a test run in qTest's Test Execution tab.
  if (hash.get('tab') !== 'testexecution' || hash.get('object') !== '3') return null;
  const id = Number(hash.get('id'));
  return Number.isSafeInteger(id) && id > 0 ? { testRun: id, project: Number(page.pathname.split('/')[2]) } : null;
}

/** The `qtest` section of the core's config. */
export function qtestConfig(setup, project) {
  return { qtest: { url: setup.qtestUrl, project_id: project ?? setup.qtestProject } };
}

/** What went wrong with qTest, for the panel. */
export function qtestFailure(error) {
  const known = {
    'qtest.unauthorized': 'qTest refused your token: set a qTest API token in the set-up page.',
    'qtest.token_expired': 'Your qTest token expired: set a new one in the set-up page.',
    'qtest.unreachable': 'qTest cannot be reached: check the network and the qTest URL in the set-up page.',
    'qtest.run_passed': 'The latest execution of this test run passed: there is no failure to file.',
    'qtest.no_test_log': 'This test run was never executed: there is no failure to file.',
  };
  return known[error.code] ?? `${error.message}${error.hint ? ` (${error.hint})` : ''}`;
}
