// A person joins: the agent's reply (sent on the agent socket) shows in the widget with the
// agent's name in the header, agent typing shows the indicator, new messages are announced
// to screen readers, and a message arriving while the panel is closed raises the badge.
import { check } from '../lib/report.mjs';
import { openPanel, probe, until } from '../lib/widget.mjs';

export const AGENT_REPLY = 'Hi, I am Alice from the support team. Your refund is on its way.';

export async function agentJoinsAndReplies({ page, agent, conversationId }) {
  const seq = await agent.reply(conversationId, AGENT_REPLY);
  await until(
    page,
    'the agent reply sent on the agent socket appears in the widget',
    (s) => window.__cwTest.messages().some((m) => Number(m.seq) === s && m.author === 'agent' && m.text.includes('Alice from the support team')),
    seq,
    10_000,
  );
  await until(
    page,
    "the header shows the agent's name once they joined",
    () => {
      const a = window.__cwTest.q('.cw-agent');
      return window.__cwTest.visible(a) && a.textContent.includes('Alice');
    },
    undefined,
    10_000,
  );
  const live = await probe(page, () => {
    const l = window.__cwTest.q('.cw-live');
    return l ? { polite: l.getAttribute('aria-live'), text: l.textContent } : null;
  });
  check('an aria-live="polite" region exists', live?.polite === 'polite', JSON.stringify(live));
  await until(
    page,
    'the live region announces the new message',
    () => (window.__cwTest.q('.cw-live')?.textContent ?? '').includes('support team'),
    undefined,
    5_000,
  );

  agent.typing(conversationId, true);
  await until(
    page,
    'agent typing shows the typing indicator',
    () => window.__cwTest.visible(window.__cwTest.q('.cw-typing')),
    undefined,
    10_000,
  );
  agent.typing(conversationId, false);
  await until(
    page,
    'the typing indicator hides when the agent stops typing',
    () => !window.__cwTest.visible(window.__cwTest.q('.cw-typing')),
    undefined,
    10_000,
  );
}

export async function unreadBadge({ page, agent, conversationId }) {
  await page.locator('button.cw-close').click();
  await until(page, 'the close button closes the panel', () => !window.__cwTest.panelOpen(), undefined, 5_000);
  await agent.reply(conversationId, 'Let me know if there is anything else.');
  await until(
    page,
    'a message arriving while closed shows the unread badge with 1',
    () => {
      const b = window.__cwTest.q('.cw-badge');
      return window.__cwTest.visible(b) && b.textContent.trim() === '1';
    },
    undefined,
    10_000,
  );
  await openPanel(page, 'the panel opens again');
  await until(page, 'opening the panel clears the badge', () => !window.__cwTest.visible(window.__cwTest.q('.cw-badge')), undefined, 5_000);
}
