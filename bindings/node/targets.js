// `rally`, `qtest` and `testrail`: each function a core session run to its end by the
// host loop (host-loop.js). Shared word for word by the Node addon and the WASM package.

import { createHostLoop, sleep } from './host-loop.js';

/** Where the TestRail export's switch is kept in the state file or store. */
const EXPORT_SWITCH = 'switch:testrail';
const REFUSED = ['testrail.unauthorized', 'testrail.forbidden'];

/** `configure`: the configuration with `scope` as `testrail.scope` (the core checks it). */
const withScope = (scope) => (settings) =>
  scope === undefined || scope === null ? settings : { ...settings, testrail: { ...(settings.testrail ?? {}), scope } };

export function createTargets(runtime) {
  const { drive, publishRun, simple, loadConfig, openStore, secretsFor, workKey, iterCases } = createHostLoop(runtime);

  const rally = (() => {
    /** Publishes a report's results (test case results, attachments, the test set). */
    const publish = (report, config, options = {}) => publishRun('rally.publish', report, config, options);

    /** Tests the key, the workspace and the project. */
    const connect = (config, options = {}) => simple('rally.connect', config, undefined, options, false);

    /** The form schema of a Rally type (`Defect` by default), for `autofill`. */
    async function loadSchema(config, options = {}) {
      const done = await simple('rally.schema', config, { type_name: options.typeName ?? 'Defect' }, options, false);
      return done.details.schema;
    }

    /** Files a defect: `request.payload` is `autofill(...).payload`; links by FormattedID or ref. */
    const submitDefect = (request, config, options = {}) => simple('rally.defect', config, request, options, true);

    /**
     * The user stories a query finds, as an async generator; `watch: true` polls every
     * `interval` seconds until the loop stops or `signal` aborts. With `state`/`store`
     * the cursor is kept between runs (advanced once a poll's stories were all taken).
     */
    async function* importRequirements(query = null, options = {}) {
      const settings = await loadConfig(options.config);
      const secrets = secretsFor('rally.requirements', settings, options.secrets, false);
      const base = { query, projects: options.projects ?? [], fields: options.fields ?? [], time_zone: options.timeZone ?? null };
      const store = await openStore(options);
      const cursorKey = `cursor:${workKey('rally.requirements', { config: settings.rally ?? null, request: base })}`;
      let since = options.since ?? (store ? await store.get(cursorKey) : null) ?? null;
      for (;;) {
        const done = await drive({
          kind: 'rally.requirements',
          input: { config: settings, request: { ...base, since } },
          secrets,
          signal: options.signal,
          fetch: options.fetch,
          timeoutMs: options.timeoutMs,
        });
        yield* done.details.requirements;
        if (done.details.next_since) {
          since = done.details.next_since;
          if (store) await store.set(cursorKey, since);
        }
        if (!options.watch) return;
        await sleep((options.interval ?? 120) * 1000, options.signal);
      }
    }

    return { publish, connect, loadSchema, submitDefect, importRequirements };
  })();

  const qtest = {
    /** Publishes a report: test cases in modules, the job's test cycle, a suite per browser, runs and logs. */
    publish: (report, config, options = {}) => publishRun('qtest.publish', report, config, options),
    /** Tests the site, the token, the project and its automation settings. */
    connect: (config, options = {}) => simple('qtest.connect', config, undefined, options, false),
    submitDefect: (testRun, config, options) => defectFromQtest(testRun, config, options),
  };

  /**
   * Files a Rally defect from a failed qTest test run: `qtest.failed_run` reads the run,
   * its test case and latest log; `autofill.fill` fills the form (nothing is sent while
   * it is not ready); `rally.defect` files it with the Rally test case and story made
   * from the qTest case and the log's files; `qtest.link_defect` comments on the run.
   * Secrets: `options.qtestSecrets` and `options.rallySecrets` (else the environment).
   */
  async function defectFromQtest(testRun, config, options = {}) {
    const settings = await loadConfig(config);
    const withSecrets = (secrets) => ({ ...options, secrets, dryRun: false });
    const run = await simple('qtest.failed_run', settings, { test_run: testRun }, withSecrets(options.qtestSecrets), false);
    const found = run.details;
    const form = runtime.call('autofill.fill', { schema: options.schema, settings: options.settings ?? {}, run: found.run });
    if (!form.ready) return { run, form, defect: null, linkBack: null };
    const request = {
      payload: form.payload,
      test_case: options.testCase ?? null,
      requirement: options.story ?? null,
      test_case_link: found.test_case_url,
      attachments: found.attachments,
    };
    const defect = await simple('rally.defect', settings, request, withSecrets(options.rallySecrets), false);
    const filed = defect.details;
    const oid = (filed.ref ?? '').split('/').pop();
    const base = (settings.rally?.url ?? '').replace(/\/+$/, '');
    const url = /^\d+$/.test(oid) && base ? `${base}/#/detail/defect/${oid}` : null;
    const linkRequest = {
      test_run: testRun,
      test_log: found.test_log_id,
      defect: { formatted_id: filed.formatted_id, url, name: filed.name },
    };
    const linkBack = await simple('qtest.link_defect', settings, linkRequest, withSecrets(options.qtestSecrets), false);
    return { run, form, defect, linkBack, url };
  }

  /**
   * With `state` or `store`, a 401 or 403 switches the export off: later calls reject with
   * `testrail.export_disabled` and send nothing until one passes `reenable: true`.
   */
  async function testrailPublish(report, config, options = {}) {
    const store = options.dryRun ? null : await openStore(options);
    if (store) {
      if (options.reenable) await store.set(EXPORT_SWITCH, '');
      else {
        const off = await store.get(EXPORT_SWITCH);
        if (off) throw exportDisabled(JSON.parse(off));
      }
    }
    try {
      return await publishRun('testrail.publish', report, config, { ...options, store: store ?? undefined, configure: withScope(options.scope) });
    } catch (error) {
      if (store && REFUSED.includes(error?.code)) {
        const lost = error.report?.details?.access_lost;
        const since = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        await store.set(EXPORT_SWITCH, JSON.stringify({ since, code: lost?.code ?? error.code, reason: lost?.message ?? error.message }));
      }
      throw error;
    }
  }

  const exportDisabled = ({ since, code, reason }) =>
    runtime.toError({
      code: 'testrail.export_disabled',
      message: `the TestRail export is switched off since ${since} because TestRail refused access (${code}: ${reason}); nothing was sent`,
      location: null,
      hint: 'check the credentials with testrail.connect(config), then publish again with reenable: true',
    });

  const testrail = {
    /** Exports a report: cases, a run or plan entry, results and attachments; `scope` filters what goes. */
    publish: testrailPublish,
    /** Checks the URL, the credentials, the project, suite and section, the statuses and fields. */
    connect: (config, options = {}) => simple('testrail.connect', config, undefined, options, false),
  };

  return { rally, qtest, testrail, iterCases };
}
