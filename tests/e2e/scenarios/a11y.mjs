// Accessibility: axe-core on the widget (open shadow DOM included), and keyboard use.
import { createRequire } from 'node:module';
import { check, info } from '../lib/report.mjs';
import { probe, until } from '../lib/widget.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** Runs axe on <concierge-widget> and fails on serious or critical violations. */
export async function axeHasNoSeriousViolations(page, state) {
  if (!(await probe(page, () => typeof window.axe === 'object'))) {
    await page.addScriptTag({ path: AXE });
  }
  const violations = await probe(page, async () => {
    const result = await window.axe.run(
      { include: [['concierge-widget']] },
      { resultTypes: ['violations'] },
    );
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => `${JSON.stringify(n.target)} ${n.failureSummary?.split('\n').slice(1, 2).join('')}`),
    }));
  });
  for (const v of violations) {
    info(`axe (${state}) ${v.impact} ${v.id}: ${v.help} @ ${v.nodes.join(' | ')}`);
  }
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(
    `axe-core finds no serious or critical violation in the ${state} widget`,
    bad.length === 0,
    bad.map((v) => `${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(' | ')}`).join('; '),
  );
}

/** Tab reaches the launcher, Enter opens with focus in the composer, Esc closes back. */
export async function keyboardOpensAndCloses(page) {
  await probe(page, () => document.activeElement?.blur());
  let reached = false;
  const path = [];
  for (let i = 0; i < 15 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await probe(page, () => window.__cwTest.focusIn('button.cw-launcher'));
    path.push(await probe(page, () => window.__cwTest.focused()));
  }
  check('Tab reaches the launcher', reached, `focus went ${path.join(' → ')}`);
  const ring = await probe(page, () => {
    const s = getComputedStyle(window.__cwTest.q('button.cw-launcher'));
    return { outline: `${s.outlineStyle} ${s.outlineWidth}`, shadow: s.boxShadow };
  });
  check(
    'the focused launcher shows a focus ring',
    !ring.outline.startsWith('none') || ring.shadow !== 'none',
    `outline ${ring.outline}, box-shadow ${ring.shadow}`,
  );
  await page.keyboard.press('Enter');
  await until(page, 'Enter on the launcher opens the panel', () => window.__cwTest.panelOpen(), undefined, 20_000);
  await until(
    page,
    'focus moves into the panel, to the composer',
    () => window.__cwTest.focusIn('textarea.cw-input'),
    undefined,
    5_000,
  );
  await page.keyboard.type('line one');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('line two');
  const composed = await probe(page, () => ({
    value: window.__cwTest.q('textarea.cw-input').value,
    messages: window.__cwTest.qa('li.cw-msg').length,
  }));
  check(
    'Shift+Enter adds a new line instead of sending',
    composed.value === 'line one\nline two' && composed.messages === 0,
    `composer ${JSON.stringify(composed.value)}, ${composed.messages} message(s) in the list`,
  );
  await page.locator('textarea.cw-input').fill('');
  const expanded = await probe(page, () => window.__cwTest.q('button.cw-launcher').getAttribute('aria-expanded'));
  check('the launcher says aria-expanded="true" while open', expanded === 'true', `aria-expanded=${expanded}`);
  await page.keyboard.press('Escape');
  await until(page, 'Esc closes the panel', () => !window.__cwTest.panelOpen(), undefined, 5_000);
  await until(
    page,
    'focus returns to the launcher on close',
    () => window.__cwTest.focusIn('button.cw-launcher'),
    undefined,
    5_000,
  );
  const collapsed = await probe(page, () => window.__cwTest.q('button.cw-launcher').getAttribute('aria-expanded'));
  check('the launcher says aria-expanded="false" when closed', collapsed === 'false', `aria-expanded=${collapsed}`);
}
