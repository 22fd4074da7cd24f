// Signed identity and languages. The host page vouches for its signed-in user (user_hash =
// HMAC-SHA256 of user_id under the site's identity secret, as the site's backend computes it):
// that user finds their conversation on another device, starts another one and goes back to
// the first; a forged hash gets a clear refusal and nothing of the user's. A page whose
// <html lang="fr"> gets the widget in French.
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { check, info } from '../lib/report.mjs';
import { launcherShown, openPage, openPanel, probe, send, settles, stored, until } from '../lib/widget.mjs';
import { settled } from './chat.mjs';

const USER_ID = 'u-e2e-1';
export const LAPTOP_TEXT = 'Signed in on my laptop: how long does a refund take?';
export const PHONE_TEXT = 'A new conversation, from my phone: do you ship abroad?';

/** What the site's backend does: reads the secret once (owner token), signs user ids. */
async function identitySecret(cfg) {
  const url = `${cfg.serverUrl}/api/v1/sites/${cfg.siteKey}/identity-secret`;
  const r = await fetch(url, { headers: { Authorization: `Bearer ${cfg.ownerToken}` } }).catch((e) => ({
    status: `no answer (${e.message})`,
    text: async () => '',
  }));
  const body = r.status === 200 ? await r.json() : await r.text();
  check(
    'an owner reads the site identity secret (GET /api/v1/sites/KEY/identity-secret)',
    r.status === 200 && /^[0-9a-f]{32,}$/.test(body?.identity_secret ?? ''),
    `HTTP ${r.status}: ${JSON.stringify(body).slice(0, 200)}`,
  );
  return body.identity_secret;
}

function signed(secret, userId) {
  const userHash = createHmac('sha256', secret).update(userId).digest('hex');
  return { user_id: userId, user_hash: userHash, name: 'Eve', email: 'eve@example.test' };
}

/** A new browser context (another device: empty localStorage), identified, panel open. */
async function device({ browser, watch, cfg }, label, identity, via) {
  const page = await openPage(browser, watch, cfg.hostUrl, label);
  const before = await stored(page, cfg.siteKey);
  check(`${label} starts with no saved session (another device)`, before === null, JSON.stringify(before));
  await launcherShown(page);
  // The snippet is async: its API exists once the loader ran.
  await until(page, `window.Concierge exists on ${label}`, () => typeof window.Concierge?.identify === 'function');
  await probe(page, (i) => window.Concierge.identify(i), identity);
  await openPanel(page, `the panel opens on ${label} after Concierge.identify()`, via);
  return page;
}

/** Waits for the visitor message `text` to get its numeric data-seq; returns the seq. */
function acked(page, text, name) {
  return until(
    page,
    name,
    (t) => {
      const m = window.__cwTest.messages().find((x) => x.author === 'visitor' && x.text.trim() === t);
      return m && /^[0-9]+$/.test(m.seq) ? Number(m.seq) : false;
    },
    text,
    15_000,
  );
}

/**
 * Runs `steps` on a page of its own context; a failure leaves `failure-LABEL.png` of that
 * page. The context is closed afterwards (unless `keep` and the steps succeeded).
 */
async function on(page, cfg, label, steps, keep = false) {
  let failed = true;
  try {
    const value = await steps();
    failed = false;
    return value;
  } catch (e) {
    const shot = path.join(cfg.screenshotDir, `failure-${label}.png`);
    await page.screenshot({ path: shot }).then(() => info(`screenshot of ${label}: ${shot}`), () => {});
    throw e;
  } finally {
    if (failed || !keep) await page.context().close();
  }
}

/** Device A writes as Eve; device B, as Eve, finds it. Returns what section 2 continues with. */
export async function identityFollowsTheUser(ctx) {
  const { cfg } = ctx;
  const secret = await identitySecret(cfg);
  const eve = signed(secret, USER_ID);
  const laptop = await device(ctx, 'device A', eve, 'click');
  const { seq, firstId } = await on(laptop, cfg, 'device-a', async () => {
    await send(laptop, LAPTOP_TEXT);
    const seq = await acked(laptop, LAPTOP_TEXT, 'the message sent on device A is acked (numeric data-seq)');
    const saved = await stored(laptop, cfg.siteKey);
    check('device A saves the conversation it joined', !!saved?.conversation_id, JSON.stringify(saved));
    return { seq, firstId: saved.conversation_id };
  });

  const phone = await device(ctx, 'device B', eve, 'api');
  const steps = async () => {
    const shown = await until(
      phone,
      'device B, identified as the same user, shows the message sent on device A',
      (t) => window.__cwTest.messages().find((m) => m.author === 'visitor' && m.text.trim() === t && m.seq)?.seq,
      LAPTOP_TEXT,
      15_000,
    );
    check('it has the same seq on both devices', Number(shown) === seq, `device A: ${seq}, device B: ${shown}`);
    const saved = await stored(phone, cfg.siteKey);
    check('device B resumes the conversation of device A', saved?.conversation_id === firstId, `${firstId} vs ${saved?.conversation_id}`);
    await settles(phone);
    const firstMessages = await settled(phone);
    info(`the first conversation: ${firstMessages.map((m) => `${m.seq}/${m.author}`).join(' ')}`);
    return { secret, phone, firstId, firstMessages };
  };
  // Device B stays open for the next section.
  return on(phone, cfg, 'device-b', steps, true);
}

/** Device C claims to be Eve with a hash not made with the site's secret. */
export async function forgedIdentityIsRefused(ctx, secret) {
  const { cfg } = ctx;
  const forged = { ...signed(secret, USER_ID), user_hash: createHmac('sha256', `${secret}x`).update(USER_ID).digest('hex') };
  const page = await device(ctx, 'device C', forged, 'api');
  await on(page, cfg, 'device-c', async () => {
    const banner = await until(
      page,
      'a wrong user_hash shows the invalid_identity banner',
      () => {
        const b = window.__cwTest.banner();
        return b && b.shown && b.code === 'invalid_identity' ? b : false;
      },
      undefined,
      15_000,
    );
    check('the banner explains it in a sentence', banner.text.length > 10 && banner.text.includes(' '), JSON.stringify(banner.text));
    info(`banner: ${banner.text}`);
    await page.waitForTimeout(500);
    const messages = await probe(page, () => window.__cwTest.messages().map((m) => m.text.trim()));
    check("a forged identity sees none of the user's messages", messages.length === 0, JSON.stringify(messages));
    const saved = await stored(page, cfg.siteKey);
    check('a forged identity gets no visitor token', !saved?.visitor_token, JSON.stringify(saved));
    await page.screenshot({ path: path.join(cfg.screenshotDir, 'widget-invalid-identity.png') });

    // The page signs the user in properly: the running widget reconnects as them.
    await probe(page, (i) => window.Concierge.identify(i), signed(secret, USER_ID));
    await until(
      page,
      "identify() with the right hash then clears the banner and shows the user's conversation",
      (t) => {
        const w = window.__cwTest;
        return !w.banner()?.shown && w.messages().some((m) => m.text.trim() === t && m.seq);
      },
      LAPTOP_TEXT,
      15_000,
    );
  });
}

/** On device B: a new conversation, the past conversations list, and back to the first. */
export async function severalConversations({ cfg }, { phone, firstId, firstMessages }) {
  await on(phone, cfg, 'device-b', async () => {
    await phone.locator('button.cw-new').click();
    await until(
      phone,
      '"new conversation" empties the list down to the greeting',
      () => {
        const t = window.__cwTest;
        return t.messages().length === 0 && t.visible(t.q('li.cw-greeting'));
      },
      undefined,
      10_000,
    );
    const secondId = await until(
      phone,
      'the new conversation has an id of its own',
      (a) => {
        const id = JSON.parse(localStorage.getItem(`concierge:${a.key}`) ?? 'null')?.conversation_id;
        return id && id !== a.first ? id : false;
      },
      { key: cfg.siteKey, first: firstId },
      10_000,
    );
    await send(phone, PHONE_TEXT);
    const seq = await acked(phone, PHONE_TEXT, 'a message in the new conversation is acked');
    check('the new conversation numbers its messages from 1', seq === 1, `data-seq=${seq}`);

    await phone.locator('button.cw-history').click();
    const listed = await until(
      phone,
      'past conversations list the first conversation',
      (id) => {
        const t = window.__cwTest;
        const b = t.q(`div.cw-history-list button.cw-conv[data-conversation="${id}"]`);
        if (!t.visible(b)) return false;
        const ids = t.qa('button.cw-conv').map((c) => c.getAttribute('data-conversation'));
        return { preview: b.textContent.trim(), ids, back: t.visible(t.q('button.cw-back')), list: t.visible(t.q('ol.cw-messages')) };
      },
      firstId,
      10_000,
    );
    info(`past conversations: ${listed.ids.join(', ')}; preview of the first: ${JSON.stringify(listed.preview)}`);
    // The preview is the last message's raw text on one line; the list shows it rendered.
    const words = listed.preview.replace(/[*_`#>[\]()]/g, '').split(/\s+/).slice(0, 4).join(' ');
    const last = firstMessages.at(-1).text.replace(/\s+/g, ' ');
    check(
      'its entry previews its last message',
      words.length > 3 && last.includes(words),
      `preview ${JSON.stringify(listed.preview)}, last message ${JSON.stringify(last.slice(0, 120))}`,
    );
    check('the list leaves out the conversation on screen', !listed.ids.includes(secondId), `${secondId} in ${listed.ids.join(', ')}`);
    check('the list offers a way back to the chat (button.cw-back)', listed.back);
    check('the message list is hidden while past conversations show', !listed.list);

    await phone.locator(`button.cw-conv[data-conversation="${firstId}"]`).click();
    await until(
      phone,
      `clicking it brings back the first conversation's ${firstMessages.length} messages`,
      (k) => JSON.stringify(window.__cwTest.settled()) === k,
      JSON.stringify(firstMessages),
      15_000,
    );
    const after = await probe(phone, (t) => {
      const w = window.__cwTest;
      return {
        second: w.messages().some((m) => m.text.trim() === t),
        list: w.visible(w.q('ol.cw-messages')),
        history: w.visible(w.q('div.cw-history-list')),
      };
    }, PHONE_TEXT);
    check("the new conversation's message is not among them", !after.second);
    check('the message list shows again and the past conversations hide', after.list && !after.history, JSON.stringify(after));
    const saved = await stored(phone, cfg.siteKey);
    check('the first conversation is the saved one again', saved?.conversation_id === firstId, `${firstId} vs ${saved?.conversation_id}`);
  });
}

/** The same snippet on a page whose <html lang="fr">. */
export async function frenchPage({ browser, watch, cfg }) {
  const page = await openPage(browser, watch, cfg.frenchUrl, 'French host');
  await on(page, cfg, 'french', async () => {
    const lang = await probe(page, () => document.documentElement.getAttribute('lang'));
    check('the page says <html lang="fr">', lang === 'fr', `lang=${lang}`);
    await launcherShown(page);
    // The loader labels the launcher in the page's language once the site config arrives,
    // before any chat code loads.
    const labelled = await page
      .waitForFunction(() => window.__cwTest.q('.cw-launcher')?.getAttribute('aria-label') === 'Ouvrir le chat', null, { timeout: 5000 })
      .then(() => true, () => false);
    const closedLabel = await probe(page, () => window.__cwTest.q('.cw-launcher')?.getAttribute('aria-label'));
    check('before the first open, the launcher is labelled "Ouvrir le chat"', labelled, `aria-label=${JSON.stringify(closedLabel)}`);
    await openPanel(page, 'the panel opens on the French page');
    const words = await probe(page, () => {
      const t = window.__cwTest;
      return {
        human: t.q('button.cw-human')?.textContent.trim(),
        placeholder: t.q('textarea.cw-input')?.getAttribute('placeholder'),
        send: t.q('button.cw-send')?.textContent.trim(),
        greeting: t.q('li.cw-greeting')?.textContent.trim(),
        launcher: t.q('.cw-launcher')?.getAttribute('aria-label'),
        panelLang: t.q('.cw-panel')?.getAttribute('lang'),
      };
    });
    check('"Talk to a human" reads "Parler à une personne"', words.human === 'Parler à une personne', JSON.stringify(words.human));
    check('the composer says "Écrivez un message…"', words.placeholder === 'Écrivez un message…', JSON.stringify(words.placeholder));
    check('the send button says "Envoyer"', words.send === 'Envoyer', JSON.stringify(words.send));
    check('the greeting is in French', words.greeting === 'Bonjour ! Posez-nous vos questions.', JSON.stringify(words.greeting));
    check('once loaded, the launcher is labelled "Ouvrir le chat"', words.launcher === 'Ouvrir le chat', JSON.stringify(words.launcher));
    check('the panel says lang="fr" (screen readers speak French)', words.panelLang === 'fr', `lang=${words.panelLang}`);
    await page.waitForTimeout(300); // the panel's opening transition
    await page.screenshot({ path: path.join(cfg.screenshotDir, 'widget-french.png') });
  });
}
