// Node entry of tmbridge-wasm: the module is loaded synchronously at import, so
// `init()` is optional here (kept so the same code runs in browsers). It is the browser
// build (web/): the same .wasm and glue, instantiated from the file beside it, so the
// package holds the module once.
import { readFileSync, readSync } from 'node:fs';
import { createApi } from './api.js';
import * as host from './node-host.js';
import * as wasm from './web/tmbridge_wasm.js';

wasm.initSync({ module: readFileSync(new URL('./web/tmbridge_wasm_bg.wasm', import.meta.url)) });

/** Nothing to load in Node; present for code shared with browsers. */
export async function init() {}
export default init;

const api = createApi({
  callJson: wasm.callJson,
  callToValue: wasm.callToValue,
  errorText: wasm.errorText,
  JunitReader: wasm.JunitReader,
  startSession: (request, secrets) => wasm.NativeSession.start(request, secrets),
  resumeSession: (saved, secrets) => wasm.NativeSession.resume(saved, secrets),
  readSync,
  host,
});

export const {
  call, callJson, listOps, version, parseJunit, parseAllure, junitEvents, readJunit, JunitReader, Session, sessionKinds, rally, qtest, testrail, iterCases,
  mapResults, validateConfig,
  normalizeRallyQuery, checkRallyQuery, parseRallyQuery, rallyPollQuery, readRallyLookups,
  autofillSchema, autofillAllowedValues, autofillForm, autofillEditForm, autofillCheckMappings,
  autofillRunFromJunit, autofill, autofillRender, autofillSources,
  gitlabPipelineEvent, gitlabDecide, gitlabVerifyToken,
} = api;
export {
  TmbridgeError,
  InputError,
  JunitError,
  RallyQueryError,
  AutofillError,
  ConfigError,
  RallyError,
  QtestError,
  TestrailError,
  GitlabError,
  BridgeError,
  SessionError,
  errorClassFor,
} from './api.js';
