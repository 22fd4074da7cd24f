// Node-side helpers around a page that embeds the widget: opening pages with the probe
// installed, waiting for widget states with a readable dump on timeout, asking questions.
import { fileURLToPath } from 'node:url';
import { CheckFailed, check, info } from './report.mjs';

const PROBE = fileURLToPath(new URL('./page-probe.js', import.meta.url));

/** What every page of a run reports into: dialogs and uncaught errors are failures. */
export class Watch {
  constructor() {
    this.dialogs = [];
    this.pageErrors = [];
    this.consoleLines = 0;
  }

  attach(page, label) {
    page.on('dialog', async (d) => {
      this.dialogs.push(`${label}: ${d.type()}("${d.message()}")`);
      info(`DIALOG on ${label}: ${d.type()}("${d.message()}")`);
      await d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => {
      this.pageErrors.push(`${label}: ${e.message}`);
      info(`uncaught error on ${label}: ${e.message}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) info(`HTTP ${r.status()} for ${r.url()} on ${label}`);
    });
    page.on('console', (m) => {
      if ((m.type() === 'error' || m.type() === 'warning') && this.consoleLines++ < 40) {
        info(`console.${m.type()} on ${label}: ${m.text().slice(0, 300)}`);
      }
    });
  }

  checkNoDialogs() {
    check('no dialog was opened by message text', this.dialogs.length === 0, this.dialogs.join('; '));
  }
}

/** A new context (own storage: a new visitor) with one page at `url`, probe installed. */
export async function openPage(browser, watch, url, label, contextOptions = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...contextOptions });
  await context.addInitScript({ path: PROBE });
  const page = await context.newPage();
  watch.attach(page, label);
  page.requests = [];
  page.on('request', (r) => page.requests.push(r.url()));
  const response = await page.goto(url);
  check(`${label} page loads (${url})`, response?.ok(), `HTTP ${response?.status()}`);
  return page;
}

/** A short description of the widget's state, for failure messages. */
export async function describe(page) {
  try {
    return await page.evaluate(() => {
      const t = window.__cwTest;
      const host = document.querySelector('concierge-widget');
      if (!host) return 'no <concierge-widget> element in the page';
      if (!t.root()) return '<concierge-widget> has no open shadow root';
      const el = (sel) => {
        const e = t.q(sel);
        if (!e) return 'absent';
        const attrs = [...e.attributes].map((a) => `${a.name}="${a.value}"`).join(' ');
        return `<${e.localName} ${attrs}>${e.textContent.trim().slice(0, 80)}`;
      };
      return JSON.stringify({
        launcher: el('.cw-launcher'),
        panel: t.q('.cw-panel') ? (t.panelOpen() ? 'open' : 'closed') : 'absent',
        banner: el('.cw-banner'),
        status: el('.cw-status'),
        typing: el('.cw-typing'),
        focus: t.focused(),
        messages: t.messages().map((m) => `${m.seq || '-'}/${m.author}/${m.state}: ${m.text.slice(0, 60)}`),
      });
    });
  } catch (e) {
    return `(page not readable: ${e.message.split('\n')[0]})`;
  }
}

/**
 * Waits until `pageFn(arg)` (run in the page, `window.__cwTest` available) is truthy and
 * returns its value; a timeout fails the check `name` with the widget's state.
 */
export async function until(page, name, pageFn, arg, timeout = 15_000) {
  try {
    const handle = await page.waitForFunction(pageFn, arg, { timeout, polling: 50 });
    const value = await handle.jsonValue();
    check(name, true);
    return value;
  } catch (e) {
    if (e instanceof CheckFailed) throw e;
    const reason = e.name === 'TimeoutError' ? `not within ${timeout} ms` : e.message.split('\n')[0];
    throw new CheckFailed(`${name}: ${reason}; the widget shows ${await describe(page)}`);
  }
}

/** Evaluates `pageFn(arg)` in the page. */
export function probe(page, pageFn, arg) {
  return page.evaluate(pageFn, arg);
}

/** Waits for the launcher (the loader's first drawing). */
export function launcherShown(page, timeout = 15_000) {
  return until(
    page,
    'the loader draws the launcher inside an open shadow root of <concierge-widget>',
    () => window.__cwTest.visible(window.__cwTest.q('button.cw-launcher')),
    undefined,
    timeout,
  );
}

/**
 * Opens the panel (if closed) by clicking the launcher, or with `window.Concierge.open()`
 * (idempotent: safe while the widget may be reopening itself after a reload), and waits until
 * it shows and is usable.
 */
export async function openPanel(page, name = 'the panel opens', via = 'click') {
  if (via === 'api') {
    await probe(page, () => window.Concierge.open());
  } else if (!(await probe(page, () => window.__cwTest.panelOpen()))) {
    await page.locator('button.cw-launcher').click();
  }
  return until(
    page,
    name,
    () => window.__cwTest.panelOpen() && window.__cwTest.visible(window.__cwTest.q('textarea.cw-input')),
    undefined,
    20_000,
  );
}

/** Types `text` into the composer and presses Enter (or clicks Send). */
export async function send(page, text, via = 'enter') {
  const input = page.locator('textarea.cw-input');
  await input.fill(text);
  if (via === 'button') await page.locator('button.cw-send').click();
  else await input.press('Enter');
}

/** Waits for the complete bot answer that follows the visitor message `question`. */
export function answerTo(page, question, name, timeout = 30_000) {
  return until(
    page,
    name,
    (q) => {
      const ms = window.__cwTest.messages();
      const v = ms.findLast((m) => m.author === 'visitor' && m.text.trim() === q && m.seq);
      if (!v) return false;
      const b = ms.find((m) => m.author === 'bot' && Number(m.seq) > Number(v.seq));
      return b && b.state === 'complete' ? { visitor: v, bot: b } : false;
    },
    question,
    timeout,
  );
}

/**
 * Waits until the conversation is quiet (whatever the bot or the escalation policy did): no
 * pending or streaming message, the bot neither searching nor writing, and the list unchanged
 * for a second.
 */
export function settles(page, timeout = 30_000) {
  return until(
    page,
    'the conversation settles (nothing pending or streaming)',
    () => {
      const t = window.__cwTest;
      const ms = t.messages();
      const key = JSON.stringify(ms);
      const phase = t.q('.cw-status')?.getAttribute('data-phase');
      const busy = ms.some((m) => !m.seq || m.state !== 'complete') || phase === 'searching' || phase === 'writing';
      if (busy || key !== t.lastKey) {
        t.lastKey = key;
        t.quietSince = performance.now();
        return false;
      }
      return performance.now() - t.quietSince > 1_000;
    },
    undefined,
    timeout,
  );
}

/** `concierge:SITE_KEY` from localStorage, parsed (null when absent). */
export function stored(page, siteKey) {
  return probe(page, (key) => JSON.parse(localStorage.getItem(`concierge:${key}`) ?? 'null'), siteKey);
}

/** The inertness audit (see page-probe.js) as one check. */
export async function checkInert(page, watch, what) {
  const problems = await probe(page, () => window.__cwTest.audit());
  check(`${what} renders inert (no script, handler, unsafe link or element)`, problems.length === 0, problems.slice(0, 12).join('; '));
  watch.checkNoDialogs();
}
