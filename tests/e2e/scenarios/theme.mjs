// The owner's settings reach every visitor: color (with readable text), corner, title,
// greeting, launcher icon, and loading the chat when the browser is idle.
import { check, info } from '../lib/report.mjs';
import { launcherShown, openPage, openPanel, probe } from '../lib/widget.mjs';

async function putConfig(cfg, body) {
  const r = await fetch(`${cfg.serverUrl}/api/v1/sites/${cfg.siteKey}/widget-config`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${cfg.ownerToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  check(`the owner saves the widget settings (${JSON.stringify(body)})`, r.ok, `HTTP ${r.status}: ${await r.text()}`);
}

export async function ownerSettingsAreApplied({ browser, watch, cfg }) {
  await putConfig(cfg, {
    color: '#ffeb3b',
    position: 'left',
    title: 'Acme help desk',
    greeting: 'Welcome to **Acme**! How can we help?',
    launcher_icon: 'help',
    preload: true,
  });
  const page = await openPage(browser, watch, cfg.hostUrl, 'themed host');
  try {
    await launcherShown(page);
    // preload: the chat code arrives without any click, once the browser is idle.
    const deadline = Date.now() + 10_000;
    while (!page.requests.some((u) => u.endsWith('.wasm')) && Date.now() < deadline) await page.waitForTimeout(100);
    const wasm = page.requests.filter((u) => u.endsWith('.wasm'));
    check('with preload on, the wasm is fetched before the first open', wasm.length === 1, JSON.stringify(page.requests));
    const launcher = await probe(page, () => {
      const t = window.__cwTest;
      const b = t.q('.cw-launcher');
      const s = getComputedStyle(b);
      const r = b.getBoundingClientRect();
      return { bg: s.backgroundColor, color: s.color, left: r.left, right: innerWidth - r.right, text: b.textContent.trim() };
    });
    info(`themed launcher: ${JSON.stringify(launcher)}`);
    check('the launcher takes the brand color', launcher.bg === 'rgb(255, 235, 59)', launcher.bg);
    check('text on a light brand color is black', launcher.color === 'rgb(0, 0, 0)', launcher.color);
    check('position left puts the launcher in the bottom-left corner', launcher.left < launcher.right, JSON.stringify(launcher));
    check('the help launcher icon is a question mark', launcher.text === '?', launcher.text);
    await openPanel(page, 'the themed panel opens');
    const panel = await probe(page, () => {
      const t = window.__cwTest;
      return {
        title: t.q('.cw-title')?.textContent,
        greeting: t.q('li.cw-greeting')?.textContent,
        strong: t.q('li.cw-greeting strong')?.textContent,
        left: t.q('.cw-panel').getBoundingClientRect().left,
      };
    });
    check('the panel shows the owner\'s title', panel.title === 'Acme help desk', panel.title);
    check('the greeting is the owner\'s, its Markdown rendered', panel.strong === 'Acme' && panel.greeting.includes('How can we help?'), JSON.stringify(panel));
    check('the panel opens on the left too', panel.left < 100, String(panel.left));
  } finally {
    await page.context().close();
    await putConfig(cfg, {});
  }
}
