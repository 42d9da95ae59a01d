// What went wrong with Rally, said so that the tester knows what to do next. The core's
// own message and hint follow the headline; they name the request and the fix.
const HEADLINES = [
  [/^rally\.(unauthorized|invalid_key|no_security_token)$/, 'Rally refused your API key', 'Check the API key on the set-up page (Rally: Profile › API Keys).'],
  [/^rally\.(unreachable|timeout|dropped)$/, 'Rally cannot be reached', 'Check the network connection and the Rally URL on the set-up page; nothing was created.'],
  [/^rally\.(forbidden|no_workspace_access|no_project_access|project_not_in_workspace)$/, 'Rally does not let this key use the workspace or project', 'Check the workspace and project on the set-up page.'],
  [/^rally\.(wrong_url|not_wsapi|redirect)$/, 'The Rally URL does not lead to Rally\'s web services', 'Use the address you open Rally with, e.g. https://rally1.rallydev.com.'],
  [/^rally\.(server_error|rate_limited|gave_up)$/, 'Rally is not answering properly right now', 'Try again in a minute.'],
];

/**
 * An Error whose `message` is the headline and `detail` what to do, from a core error.
 * `technical` keeps the core's own words (the request, the status) for a closer look.
 */
export function describeFailure(error, what) {
  const match = HEADLINES.find(([code]) => code.test(error.code));
  const technical = [error.message, error.hint].filter(Boolean).join(' ');
  if (!match) return Object.assign(new Error(`Rally could not ${what}`), { code: error.code, detail: technical, technical: '' });
  return Object.assign(new Error(match[1]), { code: error.code, detail: match[2], technical: `${error.code}: ${technical}` });
}
