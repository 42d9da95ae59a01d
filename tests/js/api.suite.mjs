// One test suite for the JavaScript API, run against every implementation of it: the
// Node addon (bindings/node/test) and the WASM package in Node (tests/js).
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const REPORT = `<?xml version="1.0"?>
<testsuite name="cart" tests="3">
  <testcase classname="shop.Cart" name="adds €" time="0.25"/>
  <testcase classname="shop.Cart" name="removes"><failure message="expected 0">trace</failure></testcase>
  <testcase classname="shop.Cart" name="later"><skipped/></testcase>
</testsuite>`;

const FIXTURES = new URL('../fixtures/', import.meta.url);
const fixture = (path) => readFileSync(new URL(path, FIXTURES));
const CONTEXT = { now: '2024-05-14T09:30:00Z', pipeline_id: '4242', sha: '8f3c2a1d9e7b', sprint: '14' };
const RALLY_CONFIG = {
  matching: { sources: ['mapping', 'property'], properties: ['rally_id'] },
  rally: { workspace: '/workspace/1001', project: '/project/2002', tester: '/user/3003', build: 'shop#{pipeline_id} ({short_sha})' },
};

const TRUNCATED = '<testsuite name="s"><testcase name="a"/><testcase name="b"><failure>cut';

/** The core's Display, to check that `message` is the core's text and nothing else. */
function display(e) {
  const at = e.line === null ? '' : `line ${e.line}, column ${e.column}: `;
  const hint = e.hint === null ? '' : `; hint: ${e.hint}`;
  return `${at}${e.detail} [${e.code}]${hint}`;
}

export function apiSuite(label, t) {
  describe(`${label}: API`, () => {
    it('init resolves and version names the core', async () => {
      await t.init();
      const v = t.version();
      assert.equal(typeof v.core, 'string');
      assert.equal(v.ops, t.listOps().length);
    });

    it('parses a report from a string and from bytes alike', () => {
      const fromText = t.parseJunit(REPORT);
      const fromBytes = t.parseJunit(new TextEncoder().encode(REPORT));
      assert.deepEqual(fromText, fromBytes);
      assert.deepEqual(fromText.counts, { tests: 3, passed: 1, failed: 1, errors: 0, skipped: 1, flaky: 0 });
      const first = fromText.suites[0].cases[0];
      assert.equal(first.name, 'adds €');
      assert.equal(first.duration_us, 250000);
      assert.equal(first.system_out, null);
      assert.equal(fromText.suites[0].cases[1].message, 'expected 0');
    });

    it('passes options to the reader', () => {
      const report = t.parseJunit('<testsuite name="s"><testcase name="a"><system-out>0123456789</system-out></testcase></testsuite>', {
        max_captured_bytes: 4,
      });
      assert.deepEqual(report.suites[0].cases[0].system_out, { text: '0123', truncated: true, original_bytes: 10 });
    });

    it('raises JunitError with the core text, code and position', () => {
      let caught;
      try {
        t.parseJunit(new Uint8Array([...new TextEncoder().encode('<testsuite name="'), 0xe9, 0x22, 0x2f, 0x3e]));
      } catch (e) {
        caught = e;
      }
      assert.ok(caught instanceof t.JunitError);
      assert.ok(caught instanceof t.TmbridgeError);
      assert.ok(caught instanceof Error);
      assert.equal(caught.name, 'JunitError');
      assert.equal(caught.code, 'junit.invalid_utf8');
      assert.equal(caught.line, 1);
      assert.equal(caught.column, 18);
      assert.equal(caught.offset, 17);
      assert.equal(typeof caught.hint, 'string');
      assert.equal(caught.message, display(caught));
    });

    it('raises InputError for unknown ops and bad input, with a hint', () => {
      assert.throws(() => t.call('junit.pars', { xml: '<a/>' }), (e) => e instanceof t.InputError && e.code === 'ops.unknown_op' && e.hint.includes('junit.parse'));
      assert.throws(() => t.call('junit.parse', { xml: '<testsuite/>', extra: 1 }), (e) => e instanceof t.InputError && e.code === 'ops.invalid_input');
      assert.throws(() => t.parseJunit(''), (e) => e instanceof t.JunitError && e.code === 'junit.empty_input');
      assert.throws(() => t.call('ops.list', 'not an object'), TypeError);
    });

    it('maps error codes to classes by area', () => {
      assert.equal(t.errorClassFor('rally_query.unexpected_token'), t.RallyQueryError);
      assert.equal(t.errorClassFor('autofill.empty_schema'), t.AutofillError);
      assert.equal(t.errorClassFor('status.unknown'), t.ConfigError);
      assert.equal(t.errorClassFor('something.new'), t.TmbridgeError);
    });

    it('callJson returns the envelope text, the same for text and bytes', () => {
      const input = JSON.stringify({ xml: REPORT });
      const a = t.callJson('junit.parse', input);
      const b = t.callJson('junit.parse', new TextEncoder().encode(input));
      const c = t.callJson('junit.parse', '{}', new TextEncoder().encode(REPORT));
      assert.equal(a, b);
      assert.equal(a, c);
      assert.ok(a.startsWith('{"ok":{"root":"testsuite"'));
      assert.ok(t.callJson('nope').startsWith('{"ok":null,"error":{"code":"ops.unknown_op"'));
    });

    it('lists ops with their shapes and document fields', () => {
      const ops = t.listOps();
      const parse = ops.find((o) => o.name === 'junit.parse');
      assert.equal(parse.document, 'xml');
      assert.equal(parse.output, 'Report');
      assert.deepEqual(new Set(ops.map((o) => o.name)).size, ops.length);
    });
  });

  describe(`${label}: streaming reader`, () => {
    const whole = () => t.junitEvents(REPORT);

    it('yields the same events as junitEvents, from a string and from bytes', () => {
      assert.deepEqual([...t.readJunit(REPORT)], whole());
      assert.deepEqual([...new t.JunitReader(new TextEncoder().encode(REPORT))], whole());
      assert.deepEqual(whole().map((e) => e.event), ['report_start', 'suite_start', 'case', 'case', 'case', 'suite_end', 'report_end']);
    });

    it('pulls chunks from a read function, split inside characters', () => {
      const bytes = new TextEncoder().encode(REPORT);
      let at = 0;
      const asked = [];
      const read = (max) => {
        asked.push(max);
        if (at >= bytes.length) return null;
        const chunk = bytes.subarray(at, at + 3);
        at += 3;
        return chunk;
      };
      assert.deepEqual([...t.readJunit(read)], whole());
      assert.ok(asked.every((n) => Number.isInteger(n) && n > 0));
    });

    it('reads a file descriptor in Node', () => {
      const dir = mkdtempSync(join(tmpdir(), 'tmbridge-'));
      try {
        const path = join(dir, 'report.xml');
        writeFileSync(path, REPORT);
        const fd = openSync(path, 'r');
        try {
          assert.deepEqual([...t.readJunit(fd)], whole());
        } finally {
          closeSync(fd);
        }
      } finally {
        rmSync(dir, { recursive: true });
      }
    });

    it('reads a FileHandle in Node', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tmbridge-'));
      try {
        const path = join(dir, 'report.xml');
        writeFileSync(path, REPORT);
        const handle = await open(path, 'r');
        try {
          assert.deepEqual([...t.readJunit(handle)], whole());
        } finally {
          await handle.close();
        }
      } finally {
        rmSync(dir, { recursive: true });
      }
    });

    it('delivers the events before an error, then throws where the file is cut', () => {
      const seen = [];
      assert.throws(
        () => {
          for (const event of t.readJunit(TRUNCATED)) seen.push(event.event === 'case' ? event.name : event.event);
        },
        (e) => e instanceof t.JunitError && e.code === 'junit.truncated' && e.line === 1,
      );
      assert.deepEqual(seen, ['report_start', 'suite_start', 'a']);
    });

    it('stops cleanly on break and stays done', () => {
      const reader = t.readJunit(REPORT);
      for (const event of reader) {
        if (event.event === 'suite_start') break;
      }
      assert.deepEqual(reader.next(), { value: undefined, done: true });
    });

    it('chains the exception of the read function as cause', () => {
      const boom = new Error('disk gone');
      assert.throws(
        () => [...t.readJunit(() => { throw boom; })],
        (e) => e instanceof t.JunitError && e.code === 'junit.io' && e.cause === boom && e.message.includes('disk gone'),
      );
    });

    it('refuses bad options on the first step and bad sources at once', () => {
      const reader = t.readJunit(REPORT, { max_depth: 'deep' });
      assert.throws(() => reader.next(), (e) => e instanceof t.InputError && e.code === 'ops.invalid_input');
      assert.deepEqual(reader.next(), { value: undefined, done: true });
      assert.throws(() => t.readJunit({}), TypeError);
    });
  });

  describe(`${label}: parse, map, auto-fill and the rest`, () => {
    it('parses a report, maps it to Rally and auto-fills a defect for a failed test', () => {
      const xml = fixture('map/checkout-e2e.xml');
      const report = t.parseJunit(xml);
      const failed = report.suites.flatMap((s) => s.cases).filter((c) => c.status === 'failed');
      assert.equal(failed.length, report.counts.failed);

      const plan = t.mapResults({ target: 'rally', config: RALLY_CONFIG, xml, context: CONTEXT, refs: { rally_test_cases: { TC11: '/testcase/5011' } } });
      assert.deepEqual(plan.results.map((r) => r.formatted_id), ['TC11']);
      const body = plan.results[0].body.TestCaseResult;
      assert.deepEqual([body.TestCase, body.Build, body.Verdict], ['/testcase/5011', 'shop#4242 (8f3c2a1d)', 'Pass']);
      assert.deepEqual(plan.lookups, ['TC12', 'TC13']);

      const schema = t.autofillSchema(fixture('autofill/rally-defect-typedef.json'));
      const run = t.autofillRunFromJunit(failed[0]);
      const defect = t.autofill(schema, run, { rules: [{ field: 'Name', template: '{test_case.name}' }] });
      const name = defect.fields.find((f) => f.field === 'Name');
      assert.equal(name.value, failed[0].name);
      assert.equal(name.filled_by, 'rule');
      assert.equal(defect.payload.Defect.Name, failed[0].name);
    });

    it('auto-fills the example run with the example settings, and edits the form', () => {
      const schema = t.autofillSchema(fixture('autofill/rally-defect-typedef.json').toString('utf8'));
      const settings = JSON.parse(fixture('autofill/defect-form-settings.json'));
      const run = JSON.parse(fixture('autofill/failed-run.json'));
      const out = t.autofill(schema, run, settings);
      assert.equal(out.ready, true);
      assert.equal(out.payload.Defect.FoundInBuild, 'web-2024.05.14+3');
      const edited = t.autofillEditForm(schema, settings, { op: 'hide', field: 'Priority' });
      assert.ok(edited.settings.hidden.includes('Priority'));
      assert.ok(!t.autofillForm(schema, edited.settings).fields.some((f) => f.name === 'Priority'));
      assert.equal(t.autofillRender('{test_case.pid}', run), 'TC-318');
      assert.ok(t.autofillSources().some((s) => s.path === 'test_case.name'));
      assert.throws(() => t.autofillRender('{test_case.name|nope}'), (e) => e instanceof t.AutofillError && e.code === 'autofill.template_syntax' && e.column === 17);
    });

    it('normalises, checks, parses and polls Rally queries', () => {
      assert.equal(t.normalizeRallyQuery('(Name contains US) AND (Creation Date >= 2013-Dec-31)').query, '((Name contains US) AND (CreationDate >= 2013-12-31T00:00:00Z))');
      const check = t.checkRallyQuery('State = Open Sorted by Priority desc');
      assert.deepEqual([check.valid, check.canonical, check.order], [true, '(State = Open)', 'Priority desc']);
      assert.equal(t.parseRallyQuery('(A = 1)').type, 'condition');
      assert.equal(t.rallyPollQuery(null, '2024-05-01T10:00:00Z').query, '(LastUpdateDate > 2024-05-01T10:00:00Z)');
      assert.throws(() => t.normalizeRallyQuery('(A = 1) AND AND (B = 2)'), (e) => e instanceof t.RallyQueryError && e.code === 'rally_query.missing_condition' && e.column === 13);
    });

    it('reads GitLab events and checks configurations', () => {
      const event = t.gitlabPipelineEvent(fixture('gitlab/pipeline-hook-success-with-builds-go-gitlab.json'));
      assert.equal(t.gitlabDecide(event).process, true);
      assert.equal(t.gitlabVerifyToken('s3cret', 's3cret'), true);
      assert.equal(t.gitlabVerifyToken('s3cret', null), false);
      assert.deepEqual(t.validateConfig(RALLY_CONFIG, 'rally'), []);
      assert.throws(() => t.validateConfig({ rally: { ...RALLY_CONFIG.rally, statuses: { skipped: 'Maybe' } } }, 'rally'), t.ConfigError);
    });
  });
}
