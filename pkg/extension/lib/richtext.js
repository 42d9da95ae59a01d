// Rich text from the core (or from Rally) shown without trusting it: the HTML is parsed
// in an inert document (no scripts run, nothing loads) and a new fragment is built from
// an allow-list of tags, copying only text and http(s) link targets.
const KEPT = new Set(['BR', 'P', 'DIV', 'SPAN', 'B', 'STRONG', 'I', 'EM', 'U', 'UL', 'OL', 'LI', 'A', 'CODE', 'PRE']);

/** A DocumentFragment of `doc` holding what is safe to show of `html`. */
export function safeFragment(html, doc = document) {
  const parsed = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html');
  const fragment = doc.createDocumentFragment();
  const copy = (from, to) => {
    for (const node of from.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) {
        to.append(doc.createTextNode(node.data));
      } else if (node.nodeType === Node.ELEMENT_NODE) {
        if (!KEPT.has(node.tagName)) {
          // Unknown tags (script, img, iframe, ...) keep only their text.
          if (node.tagName !== 'SCRIPT' && node.tagName !== 'STYLE') copy(node, to);
          continue;
        }
        const el = doc.createElement(node.tagName.toLowerCase());
        if (node.tagName === 'A') {
          const href = node.getAttribute('href') ?? '';
          if (/^https?:\/\//i.test(href)) {
            el.href = href;
            el.target = '_blank';
            el.rel = 'noopener noreferrer';
          }
        }
        copy(node, el);
        to.append(el);
      }
    }
  };
  copy(parsed.body, fragment);
  return fragment;
}

/** The text a person reads in `html`: line breaks for <br> and block ends, links as their text. */
export function htmlToText(html) {
  const parsed = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html');
  let out = '';
  const walk = (node) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) out += child.data;
      else if (child.nodeType === Node.ELEMENT_NODE) {
        if (child.tagName === 'BR') out += '\n';
        else if (child.tagName !== 'SCRIPT' && child.tagName !== 'STYLE') {
          walk(child);
          if (['P', 'DIV', 'LI'].includes(child.tagName)) out += '\n';
        }
      }
    }
  };
  walk(parsed.body);
  return out.replace(/\n+$/, '');
}

/**
 * The rich text without the link to the test run the core appends to the Description
 * (`<br /><br />Test run: <a href="...">...</a>`): the core adds it again to whatever is
 * typed, so the text box holds only what the rules wrote.
 */
export function withoutRunLink(html) {
  return html.replace(/(?:<br \/><br \/>)?Test run: (?:<a href="[^"]*">[^<]*<\/a>|[^<]*)$/, '');
}
