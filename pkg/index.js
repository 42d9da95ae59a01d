// Browser (and bundler) entry of tmbridge-wasm: `await init()` once, then use the same
// API as the Node addon. The API itself is bindings/node/api.js, copied here at build.
import wasmInit, * as wasm from './web/tmbridge_wasm.js';
import { createApi } from './api.js';

let ready = false;

/**
 * Loads the WebAssembly module. `input` is where the .wasm is (a URL, a Response, bytes
 * or a compiled module); by default it sits beside this package's glue code.
 */
export async function init(input) {
  if (ready) return;
  await wasmInit(input === undefined ? undefined : { module_or_path: input });
  ready = true;
}
export default init;

function check() {
  if (!ready) throw new Error('tmbridge-wasm is not loaded yet: `await init()` first');
}

const api = createApi({
  callJson: (...args) => (check(), wasm.callJson(...args)),
  callToValue: (...args) => (check(), wasm.callToValue(...args)),
  errorText: (...args) => (check(), wasm.errorText(...args)),
  startSession: (request, secrets) => (check(), wasm.NativeSession.start(request, secrets)),
  resumeSession: (saved, secrets) => (check(), wasm.NativeSession.resume(saved, secrets)),
  JunitReader: class {
    constructor(source, optionsJson) {
      check();
      return new wasm.JunitReader(source, optionsJson);
    }
  },
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
