// Entry point of the Node addon: loads the native module and builds the shared API
// (api.js) over it. `TMBRIDGE_NODE_ADDON` may name another build of the .node file.
import { readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createApi } from './api.js';
import * as host from './node-host.js';

const require = createRequire(import.meta.url);
const native = require(process.env.TMBRIDGE_NODE_ADDON || './tmbridge.node');

const api = createApi({
  callJson: native.callJson,
  errorText: native.errorText,
  JunitReader: native.JunitReader,
  startSession: (request, secrets) => native.NativeSession.start(request, secrets),
  resumeSession: (saved, secrets) => native.NativeSession.resume(saved, secrets),
  readSync,
  host,
});

/** Nothing to load for the native addon; present for code shared with tmbridge-wasm. */
export async function init() {}
// `import init from 'tmbridge'` works as it does for the WASM package.
export default init;

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
