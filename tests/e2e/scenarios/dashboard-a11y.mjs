// axe-core on a dashboard screen: no serious or critical violation.
import { createRequire } from 'node:module';
import { check, info } from '../lib/report.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export async function axeOnPage(page, screen) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    // The dashboard's CSP forbids other scripts: evaluate axe's source instead of a tag.
    const { readFileSync } = await import('node:fs');
    await page.evaluate(readFileSync(AXE, 'utf8'));
  }
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => `${JSON.stringify(n.target)} ${n.failureSummary?.split('\n').slice(1, 2).join('')}`),
    }));
  });
  for (const v of violations) info(`axe (${screen}) ${v.impact} ${v.id}: ${v.help} @ ${v.nodes.join(' | ')}`);
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(
    `axe-core finds no serious or critical violation on the ${screen} screen`,
    bad.length === 0,
    bad.map((v) => `${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(' | ')}`).join('; '),
  );
}
