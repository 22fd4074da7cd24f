// The server restarts mid-conversation: the widget shows it is offline, keeps what the
// visitor types, reconnects by itself, sends the queued message exactly once, and ends with
// the same messages, in the same seqs, as the server stored.
import { AgentSocket } from '../lib/agent.mjs';
import { check, info } from '../lib/report.mjs';
import { openPanel, probe, send, settles, stored, until } from '../lib/widget.mjs';
import { settled } from './chat.mjs';

export const OFFLINE_TEXT = 'Typed while offline: how long does shipping take?';

export async function restartLosesNothing({ page, cfg, control }) {
  await openPanel(page, 'the panel is open before the restart', 'api');
  const before = await settled(page);
  await control('stop');
  info('server stopped (sockets closed with 1012)');
  const banner = await until(
    page,
    'the offline banner appears while the server is away',
    () => {
      const b = window.__cwTest.banner();
      return b && b.shown && b.code === 'offline' ? b : false;
    },
    undefined,
    15_000,
  );
  check('the offline banner says so in words', banner.text.length > 5, JSON.stringify(banner.text));
  await send(page, OFFLINE_TEXT, 'button');
  await until(
    page,
    'a message typed offline shows as pending, without a seq',
    (t) => {
      const m = window.__cwTest.messages().find((x) => x.text.trim() === t);
      return !!m && !m.seq && m.state === 'pending';
    },
    OFFLINE_TEXT,
    3_000,
  );
  await page.waitForTimeout(1_500);
  await control('start');
  info('server started again on the same port and data');
  await until(
    page,
    'the offline banner goes away once the widget has reconnected',
    () => {
      const b = window.__cwTest.banner();
      return !b || !b.shown;
    },
    undefined,
    30_000,
  );
  await until(
    page,
    'the queued message is sent after the reconnect and gets a seq',
    (t) => window.__cwTest.messages().find((x) => x.text.trim() === t)?.seq,
    OFFLINE_TEXT,
    15_000,
  );
  await settles(page);

  const after = await settled(page);
  const seqs = after.map((m) => m.seq);
  check(
    'the widget holds seqs 1..n with no gap and no duplicate',
    seqs.every((s, i) => s === i + 1),
    `seqs: ${seqs.join(',')}`,
  );
  check(
    'everything shown before the restart is still there, unchanged',
    JSON.stringify(after.slice(0, before.length)) === JSON.stringify(before),
    `before: ${JSON.stringify(before).slice(0, 300)} after: ${JSON.stringify(after).slice(0, 300)}`,
  );
  const shownOffline = await probe(
    page,
    (t) => window.__cwTest.messages().filter((m) => m.text.trim() === t).length,
    OFFLINE_TEXT,
  );
  check('the queued message shows exactly once', shownOffline === 1, `shown ${shownOffline} times`);

  const conversationId = (await stored(page, cfg.siteKey))?.conversation_id;
  const agent = await AgentSocket.connect(cfg.serverUrl, cfg.agentToken);
  check('the agent socket connects after the restart (hello → welcome)', !!agent.welcome);
  const history = await agent.history(conversationId);
  const storedOffline = history.filter((m) => m.text === OFFLINE_TEXT).length;
  check('the server stored the queued message exactly once', storedOffline === 1, `stored ${storedOffline} times`);
  const server = history.map((m) => `${m.seq}/${m.author}`).join(' ');
  const widget = after.map((m) => `${m.seq}/${m.author}`).join(' ');
  check('the widget shows exactly the messages the server stored', server === widget, `server: ${server}; widget: ${widget}`);
  const visitorTexts = (list) => list.filter((m) => m.author === 'visitor').map((m) => m.text.trim()).join(' | ');
  check(
    "the visitor's messages read the same in the widget and on the server",
    visitorTexts(history) === visitorTexts(after),
    `server: ${visitorTexts(history)}; widget: ${visitorTexts(after)}`,
  );
  return { agent, conversationId };
}
