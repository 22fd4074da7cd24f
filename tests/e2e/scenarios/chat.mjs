// The visitor's story: a launcher that loads nothing heavy, an open panel, a question with a
// streamed, cited answer, thumbs, and a reload that brings the conversation back.
import path from 'node:path';
import { check, info } from '../lib/report.mjs';
import { answerTo, launcherShown, openPanel, probe, send, stored, until } from '../lib/widget.mjs';
import { axeHasNoSeriousViolations, keyboardOpensAndCloses } from './a11y.mjs';

export const QUESTION = 'How long does a refund take?';

export async function closedWidget({ page, cfg }) {
  await launcherShown(page);
  const launcher = await probe(page, () => {
    const b = window.__cwTest.q('button.cw-launcher');
    return { label: b.getAttribute('aria-label'), expanded: b.getAttribute('aria-expanded') };
  });
  check('the launcher has an accessible name', !!launcher.label?.trim(), `aria-label=${launcher.label}`);
  check('the closed launcher says aria-expanded="false"', launcher.expanded === 'false', `aria-expanded=${launcher.expanded}`);
  await page.waitForTimeout(500);
  const heavy = page.requests.filter((u) => u.startsWith(`${cfg.serverUrl}/widget/`) || u.endsWith('.wasm'));
  check('nothing heavy is fetched before the first open', heavy.length === 0, `fetched ${heavy.join(', ')}`);
  await page.screenshot({ path: path.join(cfg.screenshotDir, 'widget-closed.png') });
  await axeHasNoSeriousViolations(page, 'closed');
  await keyboardOpensAndCloses(page);
  const fetched = page.requests.filter((u) => u.startsWith(`${cfg.serverUrl}/widget/`));
  info(`fetched on first open: ${fetched.map((u) => u.slice(cfg.serverUrl.length)).join(', ')}`);
}

export async function streamedAnswer({ page, cfg }) {
  await openPanel(page, 'clicking the launcher opens the panel');
  const title = await probe(page, () => window.__cwTest.q('.cw-title')?.textContent.trim());
  check('the header shows the site title', !!title, `.cw-title is ${JSON.stringify(title)}`);
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(cfg.screenshotDir, 'widget-open.png') });
  await axeHasNoSeriousViolations(page, 'open');

  await probe(page, () => window.__cwTest.record());
  await send(page, QUESTION);
  await until(
    page,
    'the question shows in the list at once',
    (q) => window.__cwTest.messages().some((m) => m.author === 'visitor' && m.text.trim() === q),
    QUESTION,
    3_000,
  );
  await until(
    page,
    'the bot answer appears in state streaming with text',
    () => window.__cwTest.messages().some((m) => m.author === 'bot' && m.state === 'streaming' && m.text.length > 0),
    undefined,
    20_000,
  );
  await page.screenshot({ path: path.join(cfg.screenshotDir, 'widget-streaming.png') });
  const stillStreaming = await probe(page, () => window.__cwTest.messages().some((m) => m.state === 'streaming'));
  if (!stillStreaming) info('the answer completed during the screenshot: widget-streaming.png may show it complete');
  const { visitor, bot } = await answerTo(page, QUESTION, 'the streamed answer completes');

  const log = await probe(page, () => window.__cwTest.log);
  const mine = log.filter((e) => e.kind === 'bot' && e.seq === bot.seq);
  const states = mine.map((e) => e.state);
  const firstComplete = states.indexOf('complete');
  check(
    'the answer was streaming before it was complete',
    states.includes('streaming') && states.indexOf('streaming') < firstComplete,
    `states seen: ${states.join(' → ')}`,
  );
  const lengths = mine.filter((e) => e.state === 'streaming').map((e) => e.len);
  const growing = lengths.every((len, i) => i === 0 || len >= lengths[i - 1]);
  check(
    'the streamed text grew in several steps and never shrank',
    new Set(lengths).size >= 3 && growing,
    `lengths while streaming: ${lengths.join(', ')}`,
  );
  const phases = log.filter((e) => e.kind === 'phase').map((e) => e.phase || '(none)');
  info(`status phases: ${phases.join(' → ')}`);
  check(
    'the status line said searching or writing before the answer',
    phases.includes('searching') || phases.includes('writing'),
    `phases seen: ${phases.join(' → ')}`,
  );
  await until(page, 'the status line clears after the answer', () => !window.__cwTest.q('.cw-status')?.getAttribute('data-phase'), undefined, 5_000);
  check('the answer quotes the refunds page', bot.text.includes('5 business days'), `answer: ${bot.text.slice(0, 200)}`);
  check(
    'the citations are links to the help page',
    bot.sources.length > 0 && bot.sources.every((u) => u.startsWith(`${cfg.hostOrigin}/help/`)),
    `ol.cw-sources links: ${JSON.stringify(bot.sources)} (${bot.sourceCount} source items)`,
  );
  check('the answer follows the question in seq order', Number(bot.seq) === Number(visitor.seq) + 1, `question ${visitor.seq}, answer ${bot.seq}`);

  const up = page.locator(`li.cw-msg[data-seq="${bot.seq}"] button.cw-up`);
  const down = page.locator(`li.cw-msg[data-seq="${bot.seq}"] button.cw-down`);
  check('a complete bot answer has thumbs up and down', (await up.count()) === 1 && (await down.count()) === 1);
  check('thumbs start unpressed', (await up.getAttribute('aria-pressed')) === 'false', `aria-pressed=${await up.getAttribute('aria-pressed')}`);
  await up.click();
  await until(
    page,
    'thumbs up becomes aria-pressed="true" when clicked',
    (seq) => window.__cwTest.q(`li.cw-msg[data-seq="${seq}"] button.cw-up`)?.getAttribute('aria-pressed') === 'true',
    bot.seq,
    3_000,
  );
}

/** Every settled message as (seq, author, text). */
export function settled(page) {
  return probe(page, () => window.__cwTest.settled());
}

export async function reloadBringsHistoryBack({ page, cfg }) {
  const before = await settled(page);
  const saved = await stored(page, cfg.siteKey);
  check(
    `localStorage "concierge:${cfg.siteKey}" holds the visitor token and conversation`,
    !!saved?.visitor_token && !!saved?.conversation_id,
    `found ${JSON.stringify(saved)}`,
  );
  await page.reload();
  await launcherShown(page);
  await openPanel(page, 'the panel opens after the reload', 'api');
  const key = JSON.stringify(before);
  await until(
    page,
    `the reload brings back all ${before.length} messages with the same seqs`,
    (k) => JSON.stringify(window.__cwTest.settled()) === k,
    key,
    15_000,
  );
  const after = await stored(page, cfg.siteKey);
  check('the reload resumed the same conversation', after?.conversation_id === saved.conversation_id, `${saved.conversation_id} → ${after?.conversation_id}`);
  const last = before.at(-1)?.seq ?? 0;
  check('the stored last_seq is the last message seen', Number(after?.last_seq) === last, `last_seq ${after?.last_seq}, last message ${last}`);
}
