// Injected into every test page before its own scripts (page.addInitScript): read-only
// probes of the widget's open shadow root, used by the checks in ../scenarios.
(() => {
  const BODY_TAGS = new Set([
    'A', 'STRONG', 'EM', 'B', 'I', 'CODE', 'PRE', 'UL', 'OL', 'LI', 'P', 'BR', 'SPAN', 'DIV', 'DEL', 'S',
  ]);
  const FORBIDDEN_TAGS = new Set([
    'SCRIPT', 'IMG', 'SVG', 'IFRAME', 'FRAME', 'OBJECT', 'EMBED', 'STYLE', 'LINK', 'META', 'BASE', 'FORM',
    'INPUT', 'BUTTON', 'TEXTAREA', 'SELECT', 'MATH', 'DETAILS', 'VIDEO', 'AUDIO', 'SOURCE', 'TEMPLATE', 'IMAGE',
  ]);
  const DANGEROUS_ATTRS = new Set(['src', 'srcdoc', 'action', 'formaction', 'xlink:href', 'style', 'background']);
  const STYLE_PROPS = [
    'color', 'backgroundColor', 'fontSize', 'fontFamily', 'fontWeight', 'fontStyle', 'lineHeight',
    'letterSpacing', 'wordSpacing', 'textTransform', 'textAlign', 'textIndent', 'whiteSpace', 'display',
    'visibility', 'position', 'boxSizing', 'paddingTop', 'paddingLeft', 'marginTop', 'marginLeft',
    'borderTopWidth', 'borderTopStyle', 'borderTopColor', 'listStyleType', 'cursor', 'textDecorationLine',
  ];
  const METRIC_TARGETS = [
    '.cw-launcher', '.cw-panel', '.cw-title', '.cw-close', '.cw-messages', 'li.cw-greeting', '.cw-input',
    '.cw-send', '.cw-human',
  ];

  const t = {
    root() {
      return document.querySelector('concierge-widget')?.shadowRoot ?? null;
    },
    q(sel) {
      return t.root()?.querySelector(sel) ?? null;
    },
    qa(sel) {
      const r = t.root();
      return r ? [...r.querySelectorAll(sel)] : [];
    },
    visible(el) {
      if (!el || el.hidden || el.closest('[hidden]')) return false;
      const s = getComputedStyle(el);
      if (s.display === 'none' || s.visibility === 'hidden' || s.opacity === '0') return false;
      const b = el.getBoundingClientRect();
      return b.width > 0 && b.height > 0;
    },
    panelOpen() {
      const p = t.q('.cw-panel');
      return !!p && !p.hasAttribute('hidden') && t.visible(p);
    },
    messages() {
      return t.qa('li.cw-msg').map((li) => ({
        seq: li.getAttribute('data-seq') ?? '',
        author: li.getAttribute('data-author'),
        state: li.getAttribute('data-state'),
        text: li.querySelector('.cw-body')?.textContent ?? '',
        sources: [...li.querySelectorAll('ol.cw-sources a')].map((a) => a.getAttribute('href')),
        sourceCount: li.querySelectorAll('ol.cw-sources li, ol.cw-sources a').length,
      }));
    },
    /** Messages the server has stored, as (seq, author, text): what must survive reloads. */
    settled() {
      return t
        .messages()
        .filter((m) => m.seq)
        .map((m) => ({ seq: Number(m.seq), author: m.author, text: m.text.trim() }));
    },
    banner() {
      const b = t.q('.cw-banner');
      return b ? { code: b.getAttribute('data-code') ?? '', text: b.textContent.trim(), shown: t.visible(b) } : null;
    },
    /** Where focus is: a description of the shadow root's active element, or the page's. */
    focused() {
      const a = t.root()?.activeElement;
      if (a) return `${a.tagName.toLowerCase()}.${[...a.classList].join('.')}`;
      const d = document.activeElement;
      return d ? d.tagName.toLowerCase() : null;
    },
    focusIn(sel) {
      const a = t.root()?.activeElement;
      return !!a && document.activeElement === document.querySelector('concierge-widget') && !!a.closest(sel);
    },
    /** Starts recording the status phases and every bot message's (state, length). */
    record() {
      const r = t.root();
      t.log = [];
      t.obs?.disconnect();
      const last = new Map();
      let phase = null;
      const t0 = performance.now();
      const snap = () => {
        const now = Math.round(performance.now() - t0);
        const p = t.q('.cw-status')?.getAttribute('data-phase') ?? '';
        if (p !== phase) {
          phase = p;
          t.log.push({ kind: 'phase', phase: p, t: now });
        }
        for (const li of t.qa('li.cw-msg[data-author="bot"]')) {
          const seq = li.getAttribute('data-seq') || '?';
          const state = li.getAttribute('data-state');
          const len = (li.querySelector('.cw-body')?.textContent ?? '').length;
          const prev = last.get(seq);
          if (!prev || prev.state !== state || prev.len !== len) {
            const e = { kind: 'bot', seq, state, len, t: now };
            last.set(seq, e);
            t.log.push(e);
          }
        }
      };
      t.obs = new MutationObserver(snap);
      t.obs.observe(r, { subtree: true, childList: true, characterData: true, attributes: true });
      snap();
    },
    log: [],
    /** Everything in the messages that could run code or leave the page: a list of problems. */
    audit() {
      const problems = [];
      const where = (li) => `message ${li.getAttribute('data-seq') || '(pending)'} by ${li.getAttribute('data-author')}`;
      for (const li of t.qa('li.cw-msg')) {
        for (const el of li.querySelectorAll('*')) {
          for (const attr of el.attributes) {
            if (attr.name.toLowerCase().startsWith('on')) {
              problems.push(`${where(li)}: <${el.localName}> has an event handler attribute ${attr.name}="${attr.value}"`);
            }
          }
        }
        for (const part of li.querySelectorAll('.cw-body, .cw-sources')) {
          for (const el of part.querySelectorAll('*')) {
            const tag = el.tagName.toUpperCase();
            if (FORBIDDEN_TAGS.has(tag)) problems.push(`${where(li)}: a <${el.localName}> element in message text`);
            else if (part.matches('.cw-body') && !BODY_TAGS.has(tag)) {
              problems.push(`${where(li)}: <${el.localName}> is outside the markdown subset`);
            }
            for (const attr of el.attributes) {
              if (DANGEROUS_ATTRS.has(attr.name.toLowerCase())) {
                problems.push(`${where(li)}: <${el.localName}> has ${attr.name}="${attr.value}"`);
              }
            }
          }
        }
        for (const a of li.querySelectorAll('a')) {
          const href = a.getAttribute('href') ?? '';
          if (!/^(https?:\/\/|mailto:)/i.test(href)) {
            problems.push(`${where(li)}: link "${a.textContent}" has href=${JSON.stringify(href)}`);
          }
          const rel = new Set((a.getAttribute('rel') ?? '').split(/\s+/).filter(Boolean));
          if (!['noopener', 'noreferrer', 'nofollow'].every((r) => rel.has(r))) {
            problems.push(`${where(li)}: link "${a.textContent}" has rel=${JSON.stringify(a.getAttribute('rel'))}`);
          }
        }
      }
      if (t.root()?.querySelector('script')) problems.push('a <script> element inside the shadow root');
      if (document.querySelector('iframe')) problems.push('an <iframe> in the host page');
      if (window.__xss !== undefined) problems.push(`window.__xss was set to ${JSON.stringify(window.__xss)}`);
      return problems;
    },
    /** Boxes and computed styles of the widget's parts, to compare two host pages. */
    metrics() {
      const out = {};
      for (const sel of METRIC_TARGETS) {
        const el = t.q(sel);
        if (!el) continue;
        const b = el.getBoundingClientRect();
        const s = getComputedStyle(el);
        const m = { x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) };
        for (const p of STYLE_PROPS) m[p] = s[p];
        out[sel] = m;
      }
      return out;
    },
  };
  Object.defineProperty(window, '__cwTest', { value: t });
})();
