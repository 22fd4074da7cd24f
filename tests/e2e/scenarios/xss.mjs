// Hostile text (tests/e2e/xss-corpus.json) as bot text (the bot quotes help-center notes
// that contain it) and as agent text: nothing runs, no unsafe element or link appears, and
// the safe links of the markdown subset still work.
import { check, info } from '../lib/report.mjs';
import { answerTo, checkInert, probe, send, until } from '../lib/widget.mjs';

export async function botTextIsInert({ page, cfg, watch }) {
  for (const group of cfg.corpus.bot) {
    const question = `What do the ${group.topic} notes say?`;
    await send(page, question);
    const { bot } = await answerTo(page, question, `the bot answers about the ${group.topic} notes`);
    check(
      `the bot quoted the ${group.topic} note, hostile text included`,
      bot.text.includes(`${group.topic} notes are what`),
      `answer: ${bot.text.slice(0, 200)}`,
    );
    info(`${group.topic} answer as shown (${bot.text.length} characters): ${bot.text.slice(0, 160)}`);
    // An <img onerror> would fire once its load fails: give it the time.
    await page.waitForTimeout(300);
    await checkInert(page, watch, `bot text quoting the ${group.topic} note`);
  }
}

export async function agentTextIsInert({ page, cfg, watch, agent, conversationId }) {
  const payloads = [...cfg.corpus.bot.flatMap((g) => g.payloads), ...cfg.corpus.agent_only];
  let lastSeq = 0;
  for (const text of payloads) {
    lastSeq = await agent.reply(conversationId, text);
  }
  await until(
    page,
    `all ${payloads.length} hostile agent messages arrive`,
    (seq) => window.__cwTest.messages().some((m) => Number(m.seq) === seq && m.author === 'agent'),
    lastSeq,
    15_000,
  );
  await page.waitForTimeout(500);
  await checkInert(page, watch, 'agent text from the XSS corpus');

  const agentMessages = await probe(page, () =>
    window.__cwTest.qa('li.cw-msg[data-author="agent"]').map((li) => ({
      text: li.querySelector('.cw-body')?.textContent ?? '',
      links: [...li.querySelectorAll('.cw-body a')].map((a) => ({ href: a.getAttribute('href'), text: a.textContent })),
    })),
  );
  const links = agentMessages.flatMap((m) => m.links);
  info(`links rendered in agent messages: ${links.map((l) => `[${l.text}](${l.href})`).join(' ')}`);
  check(
    'a markdown https link in agent text renders as a link',
    links.some((l) => l.href === 'https://shop.example/help' && l.text === 'the help center'),
    `links: ${JSON.stringify(links)}`,
  );
  check(
    'a markdown mailto link in agent text renders as a link',
    links.some((l) => l.href === 'mailto:help@shop.example'),
    `links: ${JSON.stringify(links)}`,
  );
  const literal = '<script>window.__xss=1;alert(1)</script>';
  const shown = agentMessages.some((m) => m.text.includes(literal));
  info(`hostile markup ${shown ? 'is shown as literal text' : 'is not shown literally (stripped or altered)'}`);
}
