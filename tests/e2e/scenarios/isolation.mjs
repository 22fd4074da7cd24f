// The widget and the page around it: a page whose origin the site does not allow gets a
// clear error, and a page with hostile CSS does not change a pixel of the widget.
import path from 'node:path';
import { check, info } from '../lib/report.mjs';
import { launcherShown, openPage, openPanel, probe, until } from '../lib/widget.mjs';

export async function originNotAllowed({ browser, watch, cfg }) {
  const page = await openPage(browser, watch, cfg.badHostUrl, 'disallowed-origin');
  try {
    await launcherShown(page);
    await page.locator('button.cw-launcher').click();
    const banner = await until(
      page,
      'a page on an origin the site does not allow shows the origin_not_allowed banner',
      () => {
        const b = window.__cwTest.banner();
        return b && b.shown && b.code === 'origin_not_allowed' ? b : false;
      },
      undefined,
      20_000,
    );
    check('the banner explains it in a sentence', banner.text.length > 10, JSON.stringify(banner.text));
    info(`banner: ${banner.text}`);
    await page.screenshot({ path: path.join(cfg.screenshotDir, 'widget-origin-not-allowed.png') });
  } finally {
    await page.context().close();
  }
}

/** Boxes and styles of the widget's parts, closed then open, once they stop moving. */
async function measure(browser, watch, url, label) {
  const page = await openPage(browser, watch, url, label, { reducedMotion: 'reduce' });
  await launcherShown(page);
  const closed = await stable(page);
  await openPanel(page, `the panel opens on the ${label} page`);
  await until(page, `the greeting shows on the ${label} page`, () => !!window.__cwTest.q('li.cw-greeting'), undefined, 10_000).catch(
    () => info('no greeting bubble (li.cw-greeting) to compare'),
  );
  const open = await stable(page);
  return { page, closed: closed['.cw-launcher'], open };
}

async function stable(page) {
  let last = null;
  for (let i = 0; i < 20; i++) {
    const now = await probe(page, () => window.__cwTest.metrics());
    if (JSON.stringify(now) === JSON.stringify(last)) return now;
    last = now;
    await page.waitForTimeout(150);
  }
  return last;
}

function differences(a, b, prefix, out) {
  for (const key of new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])) {
    const x = a?.[key];
    const y = b?.[key];
    if (x && typeof x === 'object') differences(x, y, `${prefix}${key} `, out);
    else if (x !== y) out.push(`${prefix}${key}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
  }
  return out;
}

export async function hostileCssChangesNothing({ browser, watch, cfg }) {
  const plain = await measure(browser, watch, cfg.hostUrl, 'plain host');
  const hostile = await measure(browser, watch, cfg.hostileUrl, 'hostile-CSS host');
  try {
    await hostile.page.screenshot({ path: path.join(cfg.screenshotDir, 'widget-hostile-css.png') });
    check('the widget has parts to compare', Object.keys(plain.open).length >= 5, `measured ${Object.keys(plain.open).join(', ')}`);
    const closed = differences(plain.closed, hostile.closed, 'closed launcher ', []);
    check("the host page's hostile CSS leaves the closed launcher unchanged", closed.length === 0, closed.slice(0, 12).join('; '));
    const open = differences(plain.open, hostile.open, '', []);
    check("the host page's hostile CSS leaves the open panel unchanged", open.length === 0, open.slice(0, 15).join('; '));
  } finally {
    await plain.page.context().close();
    await hostile.page.context().close();
  }
}
