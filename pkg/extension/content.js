// Content script on Rally pages: fetches the defect type's metadata with the user's
// session, asks the service worker to auto-fill, and writes the values into the form.
// Fields are found by their Rally ElementName: `name="..."` or `data-field="..."`.
(() => {
  const METADATA_PATH =
    '/slm/webservice/v2.0/typedefinition?query=(Name%20%3D%20%22Defect%22)&fetch=Name,ElementName,Attributes,AttributeType,Required,ReadOnly,Hidden,Custom,MaxLength,AllowedValues,StringValue&pagesize=1';

  /** Rich text from the core is escaped HTML with links and line breaks; keep only those. */
  function safeFragment(html) {
    const template = document.createElement('template');
    template.innerHTML = html;
    const allowed = new Set(['BR', 'A', 'P', 'B', 'STRONG', 'I', 'EM', 'UL', 'OL', 'LI', 'DIV', 'SPAN']);
    for (const el of [...template.content.querySelectorAll('*')]) {
      if (!allowed.has(el.tagName)) {
        el.replaceWith(document.createTextNode(el.textContent));
        continue;
      }
      for (const attr of [...el.attributes]) {
        const keep = el.tagName === 'A' && attr.name === 'href' && /^https?:/i.test(attr.value);
        if (!keep) el.removeAttribute(attr.name);
      }
    }
    return template.content;
  }

  function findControl(form, field) {
    const name = CSS.escape(field);
    return form.querySelector(`[name="${name}"], [data-field="${name}"]`);
  }

  function setValue(el, f) {
    if (el instanceof HTMLSelectElement) {
      const option = [...el.options].find(
        (o) => (f.reference && o.value === f.reference) || o.value === f.value || o.text.trim() === f.value,
      );
      if (!option) return false;
      el.value = option.value;
    } else if (el.isContentEditable) {
      el.replaceChildren(safeFragment(f.value));
    } else if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) {
      el.value = f.reference ?? f.value;
    } else {
      return false;
    }
    // Let the page's own code (React, Ext JS, plain listeners) see the change.
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
    return true;
  }

  function showStatus(text, isError) {
    let box = document.getElementById('tmbridge-status');
    if (!box) {
      box = document.createElement('div');
      box.id = 'tmbridge-status';
      box.setAttribute('role', 'status');
      box.style.cssText = 'position:fixed;right:16px;bottom:16px;padding:8px 12px;border-radius:4px;font:13px system-ui;z-index:2147483647;color:#fff';
      document.body.append(box);
    }
    box.style.background = isError ? '#b00020' : '#1d6b3a';
    box.textContent = text;
  }

  async function fill() {
    const form = document.querySelector('form');
    if (!form) throw new Error('no form on this page');
    const response = await fetch(METADATA_PATH, { credentials: 'include', headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(`Rally answered ${response.status} for the defect metadata`);
    const metadata = await response.text();
    const answer = await chrome.runtime.sendMessage({ type: 'tmbridge.autofill', metadata });
    if (answer.error) {
      showStatus(`tmbridge: ${answer.error.message}`, true);
      return { ok: false, error: answer.error };
    }
    const { output } = answer;
    const filled = [];
    const missing = [];
    for (const f of output.fields) {
      if (f.filled_by === 'none' || f.value === '') continue;
      const el = findControl(form, f.field);
      if (el && setValue(el, f)) filled.push(f.field);
      else missing.push(f.field);
    }
    const errors = output.problems.filter((p) => p.severity === 'error');
    showStatus(`tmbridge filled ${filled.length} fields${errors.length ? `; ${errors.length} problems to check` : ''}`, errors.length > 0);
    return { ok: true, ready: output.ready, filled, missing, problems: output.problems };
  }

  chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
    if (message?.type !== 'tmbridge.fill') return false;
    fill().then(sendResponse, (e) => {
      showStatus(`tmbridge: ${e.message}`, true);
      sendResponse({ ok: false, error: { code: 'extension.error', message: e.message } });
    });
    return true;
  });
})();
