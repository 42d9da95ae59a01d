// The extension's pure helpers in Node: which pages are GitLab pipelines or jobs, the
// run made from a GitLab test report case, how typed values become settings, and which
// dropped files are a report and which the attachments a failed test names.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { allureFiles, baseName, contentType, matchAttachments, reportKind, toBase64 } from '../../pkg/extension/lib/files.js';
import { gitlabPage, runFromGitlabTest } from '../../pkg/extension/lib/gitlab.js';
import { qtestRunPage } from '../../pkg/extension/lib/qtest.js';
import { literalTemplate, originPattern, placeProblems, separatorText, separatorValue, withEdits } from '../../pkg/extension/lib/settings.js';

it('finds the project and pipeline or job of GitLab pages under the configured URL only', () => {
  const base = 'https://gitlab.example.com';
  assert.deepEqual(gitlabPage(`${base}/acme/web-shop/-/pipelines/981`, base), { project: 'acme/web-shop', pipeline: 981 });
  assert.deepEqual(gitlabPage(`${base}/acme/web-shop/-/pipelines/981/test_report?x=1#t`, base), { project: 'acme/web-shop', pipeline: 981 });
  assert.deepEqual(gitlabPage(`${base}/group/sub/app/-/jobs/7/`, `${base}/`), { project: 'group/sub/app', job: 7 });
  // GitLab under a path prefix.
  assert.deepEqual(gitlabPage('https://example.com/gitlab/a/b/-/jobs/3', 'https://example.com/gitlab'), { project: 'a/b', job: 3 });
  for (const other of [
    'https://evil.example.com/acme/web-shop/-/pipelines/981',
    'http://gitlab.example.com/acme/web-shop/-/pipelines/981',
    `${base}/acme/web-shop/-/merge_requests/4`,
    `${base}/acme/web-shop/-/pipelines`,
    'https://example.com/other/a/b/-/jobs/3',
    'not a url',
    undefined,
  ]) {
    assert.equal(gitlabPage(other, other?.startsWith('https://example.com') ? 'https://example.com/gitlab' : base), null, String(other));
  }
});

it('finds the test run of qTest Test Execution pages on the configured host only', () => {
  const base = 'https://acme.qtestnet.com';
  assert.deepEqual(qtestRunPage(`${base}/p/4521/portal/project#tab=testexecution&object=3&id=88213`, base), { testRun: 88213, project: 4521 });
  for (const other of [
    `https://evil.example.com/p/4521/portal/project#tab=testexecution&object=3&id=88213`,
    `${base}/p/4521/portal/project#tab=testdesign&object=1&id=88213`,
    `${base}/p/4521/portal/project#tab=testexecution&object=2&id=5`,
    `${base}/p/4521/portal/project#tab=testexecution&object=3&id=x`,
    `${base}/p/4521/other#tab=testexecution&object=3&id=1`,
    'not a url',
    undefined,
  ]) {
    assert.equal(qtestRunPage(other, base), null, String(other));
  }
});

it('makes the run of a failed GitLab test: build, links and the failure message once', () => {
  const pipeline = { id: 1001, ref: 'main', web_url: 'https://gitlab.example.com/acme/web-shop/-/pipelines/1001' };
  const run = runFromGitlabTest(
    { status: 'failed', name: 'logs in', classname: 'checkout.LoginTest', file: 'tests/login_test.py', system_output: 'expected 200, got 500', suite: 'unit-tests' },
    pipeline,
  );
  assert.equal(run.test_run.name, 'checkout.LoginTest.logs in');
  assert.equal(run.test_run.build, 'pipeline #1001 (main)');
  assert.equal(run.test_run.link, pipeline.web_url);
  assert.equal(run.test_log.message, 'expected 200, got 500');
  assert.equal(run.test_log.details, null);
  const traced = runFromGitlabTest({ status: 'error', name: 'x', system_output: 'boom\n  at a.b(c:1)', suite: 's' }, pipeline);
  assert.equal(traced.test_log.message, 'boom');
  assert.equal(traced.test_log.details, 'boom\n  at a.b(c:1)');
});

it('puts typed values in charge of the settings: text as a literal rule, drop-downs as defaults', () => {
  const settings = {
    rules: [{ field: 'Name', template: '{test_case.name}' }, { field: 'Notes', template: '{test_log.note}' }],
    defaults: { Severity: 'Minor Problem', Name: 'x' },
  };
  assert.equal(withEdits(settings, {}), settings);
  const edited = withEdits(settings, { Name: 'Pay {fails}', Severity: 'Cosmetic' }, new Set(['Severity']));
  assert.deepEqual(edited.rules, [{ field: 'Name', template: 'Pay {{fails}}' }, { field: 'Notes', template: '{test_log.note}' }]);
  assert.deepEqual(edited.defaults, { Severity: 'Cosmetic' });
  const emptied = withEdits(settings, { Name: '  ', Severity: '' }, new Set(['Severity']));
  assert.deepEqual(emptied.rules, [{ field: 'Notes', template: '{test_log.note}' }]);
  assert.deepEqual(emptied.defaults, {});
  assert.equal(literalTemplate('}{'), '}}{{');
  assert.equal(originPattern('https://rally1.rallydev.com/slm/webservice/v2.0'), 'https://rally1.rallydev.com/*');
});

it('tells a JUnit report from allure results and matches attachments to dropped files by name', () => {
  const f = (name) => ({ name });
  assert.equal(reportKind([f('shot.png'), f('a-result.json'), f('junit.xml')]), 'allure');
  assert.equal(reportKind([f('shot.png'), f('TEST-shop.XML')]), 'junit');
  assert.equal(reportKind([f('shot.png'), f('notes.txt')]), null);
  assert.deepEqual(
    allureFiles([f('a-result.json'), f('b-container.json'), f('c-attachment.json'), f('environment.properties'), f('x.png'), f('dir/executor.json')]).map((x) => x.name),
    ['a-result.json', 'b-container.json', 'environment.properties', 'dir/executor.json'],
  );
  assert.equal(baseName('/builds/shop/screens/a.png'), 'a.png');
  assert.equal(baseName('C:\\ci\\out\\b.log'), 'b.log');
  const dropped = [f('results/a.png'), f('b.log'), f('a.png')];
  const { found, missing } = matchAttachments(['/ci/a.png', 'b.log', 'c.webm', 'x/a.png'], dropped);
  assert.deepEqual(found.map((x) => [x.name, x.file]), [['a.png', dropped[0]], ['b.log', dropped[1]]]);
  assert.deepEqual(missing, [{ name: 'c.webm', why: 'not among the dropped files' }]);
  assert.deepEqual(matchAttachments(undefined, dropped), { found: [], missing: [] });
  assert.equal(contentType('a.PNG'), 'image/png');
  assert.equal(contentType('a.log'), 'text/plain');
  assert.equal(contentType('a.bin'), 'application/octet-stream');
  assert.equal(contentType('a.png', 'image/x-custom'), 'image/x-custom');
  const big = new Uint8Array(100_000).map((_, i) => i % 251);
  assert.equal(toBase64(big), Buffer.from(big).toString('base64'));
});

it('puts each core problem with the settings beside its rule, value map or default', () => {
  const settings = {
    rules: [{ field: 'Name', template: '{x' }, { field: 'Severity', template: 'a', map: 'sev' }, { field: 'Priority', template: 'b', map: 'nope' }],
    defaults: { Environment: 'Staging' },
    value_maps: [{ name: 'sev', pairs: [] }],
  };
  const p = (code, field, message, severity = 'error') => ({ code, field, message, severity, hint: null });
  const problems = [
    p('autofill.template_syntax', 'Name', 'rule 0 (Name): the template does not close'),
    p('autofill.unknown_map', 'Priority', 'the rule for Priority uses the value map "nope", which the settings do not define'),
    p('autofill.mapping_target_not_allowed', 'Severity', 'the value map "sev" maps "x" to "y", which is not an allowed value of Severity'),
    p('autofill.mapping_target_unmapped', 'Severity', '2 allowed value(s) of Severity have no pair in the value map "sev", so they cannot come back', 'info'),
    p('autofill.value_not_allowed', 'Environment', 'Staging is not an allowed value of Environment'),
    p('autofill.required_empty', 'Name', 'Name is required'),
    p('autofill.empty_schema', null, 'the schema has no fields', 'warning'),
    p('autofill.template_syntax', 'Name', 'rule 0 (Name): the template does not close'),
  ];
  const placed = placeProblems(problems, settings);
  assert.deepEqual(placed.rules.map((r) => r.map((x) => x.code)), [['autofill.template_syntax'], [], ['autofill.unknown_map']]);
  assert.deepEqual(placed.maps.map((m) => m.map((x) => x.code)), [['autofill.mapping_target_not_allowed', 'autofill.mapping_target_unmapped']]);
  assert.deepEqual(Object.keys(placed.defaults), ['Environment']);
  assert.deepEqual(placed.other.map((x) => x.code), ['autofill.empty_schema']);
  assert.equal(separatorText('\n\t\\'), '\\n\\t\\\\');
  assert.equal(separatorValue('\\n - \\t\\\\'), '\n - \t\\');
  assert.equal(separatorValue(separatorText(' | \n')), ' | \n');
});
