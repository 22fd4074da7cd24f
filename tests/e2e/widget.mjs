// The chat widget end to end, in headless Chromium on a page of another origin.
//
// Run by tests/it/widget_e2e.rs (`cargo test -p concierge-tests --test it widget_e2e`), which
// starts the server, the host pages and the control endpoint and passes them in:
//   SERVER_URL     the Concierge server (http://127.0.0.1:PORT)
//   HOST_URL       a page embedding the snippet, on an allowed origin (http://127.0.0.2:PORT/)
//   HOSTILE_URL    the same page with aggressive CSS
//   FRENCH_URL     the same page with <html lang="fr">
//   BAD_HOST_URL   a page embedding the snippet on an origin the site does not allow
//   AGENT_TOKEN    bearer token of an agent of the site's account
//   OWNER_TOKEN    bearer token of an owner (reads the site's identity secret)
//   SITE_KEY       the site's key
//   CONTROL_URL    POST /stop, /start, /restart take the server away and bring it back
//   SCREENSHOT_DIR where widget-closed.png, widget-open.png, widget-streaming.png go
//   CHROMIUM       the browser (default /usr/bin/chromium; never a downloaded one)
// Prints one line per check and exits 1 at the first failure (E2E_KEEP_GOING=1: after the
// run, listing every failed check).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CheckFailed, check, env, failures, info, section } from './lib/report.mjs';
import { Watch, checkInert, describe, openPage } from './lib/widget.mjs';
import { axeHasNoSeriousViolations } from './scenarios/a11y.mjs';
import { agentJoinsAndReplies, unreadBadge } from './scenarios/agent.mjs';
import { closedWidget, reloadBringsHistoryBack, streamedAnswer } from './scenarios/chat.mjs';
import { forgedIdentityIsRefused, frenchPage, identityFollowsTheUser, severalConversations } from './scenarios/identity.mjs';
import { hostileCssChangesNothing, originNotAllowed } from './scenarios/isolation.mjs';
import { deviceSettingsAreFollowed } from './scenarios/media.mjs';
import { ownerSettingsAreApplied } from './scenarios/theme.mjs';
import { restartLosesNothing } from './scenarios/restart.mjs';
import { agentTextIsInert, botTextIsInert } from './scenarios/xss.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

function config() {
  const hostUrl = env('HOST_URL');
  return {
    serverUrl: env('SERVER_URL').replace(/\/$/, ''),
    hostUrl,
    hostOrigin: new URL(hostUrl).origin,
    hostileUrl: env('HOSTILE_URL', new URL('/hostile-css', hostUrl).href),
    frenchUrl: env('FRENCH_URL', new URL('/fr', hostUrl).href),
    badHostUrl: env('BAD_HOST_URL'),
    agentToken: env('AGENT_TOKEN'),
    ownerToken: env('OWNER_TOKEN'),
    siteKey: env('SITE_KEY'),
    controlUrl: env('CONTROL_URL').replace(/\/$/, ''),
    screenshotDir: env('SCREENSHOT_DIR'),
    chromium: env('CHROMIUM', '/usr/bin/chromium'),
    corpus: JSON.parse(readFileSync(env('CORPUS_PATH', path.join(here, 'xss-corpus.json')), 'utf8')),
    budgetMs: Number(env('E2E_BUDGET_MS', '220000')),
  };
}

/** The server must serve the loader before any browser check means anything. */
async function serverServesTheWidget(cfg) {
  const loader = await fetch(`${cfg.serverUrl}/widget.js`).catch((e) => ({ status: `no answer (${e.message})` }));
  check(
    'the server serves /widget.js',
    loader.status === 200,
    `GET ${cfg.serverUrl}/widget.js → ${loader.status}: the server has no widget assets; build widget/dist and rebuild the server`,
  );
  const type = loader.headers.get('content-type') ?? '';
  check('/widget.js is served as JavaScript', type.includes('javascript'), `content-type: ${type}`);
  info(`/widget.js: ${(await loader.arrayBuffer()).byteLength} bytes, cache-control: ${loader.headers.get('cache-control')}`);
  const conf = await fetch(`${cfg.serverUrl}/api/widget/config?site_key=${cfg.siteKey}`, {
    headers: { Origin: cfg.hostOrigin },
  }).catch((e) => ({ status: `no answer (${e.message})`, headers: new Headers() }));
  info(`/api/widget/config from ${cfg.hostOrigin}: ${conf.status}, access-control-allow-origin: ${conf.headers.get('access-control-allow-origin')}`);
}

async function control(cfg, action) {
  const r = await fetch(`${cfg.controlUrl}/${action}`, { method: 'POST' });
  if (!r.ok) throw new CheckFailed(`the harness could not ${action} the server: HTTP ${r.status} ${await r.text()}`);
}

async function main() {
  const cfg = config();
  const timer = setTimeout(() => {
    console.log(`FAIL the browser test ran out of its ${cfg.budgetMs} ms budget`);
    process.exit(1);
  }, cfg.budgetMs);
  section('server');
  await serverServesTheWidget(cfg);
  const browser = await chromium.launch({
    executablePath: cfg.chromium,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  check(`headless Chromium ${browser.version()} starts (${cfg.chromium})`, true);
  const watch = new Watch();
  let page = null;
  try {
    section(`host page on ${cfg.hostOrigin}: closed widget, lazy loading, keyboard`);
    page = await openPage(browser, watch, cfg.hostUrl, 'host');
    const ctx = { browser, page, cfg, watch, control: (a) => control(cfg, a) };
    await closedWidget(ctx);

    section('a question, a streamed answer with citations');
    await streamedAnswer(ctx);

    section('bot text quoting hostile help-center notes');
    await botTextIsInert(ctx);

    section('reload');
    await reloadBringsHistoryBack(ctx);
    await checkInert(page, watch, 'the conversation restored after the reload');

    section('server restart mid-conversation');
    const { agent, conversationId } = await restartLosesNothing(ctx);

    section('an agent joins');
    await agentJoinsAndReplies({ ...ctx, agent, conversationId });
    await unreadBadge({ ...ctx, agent, conversationId });

    section('agent text from the XSS corpus');
    await agentTextIsInert({ ...ctx, agent, conversationId });
    await axeHasNoSeriousViolations(page, 'open (full conversation)');
    agent.close();
    check('no uncaught error in the host page', watch.pageErrors.length === 0, watch.pageErrors.join('; '));

    section(`a page on an origin the site does not allow (${new URL(cfg.badHostUrl).origin})`);
    await originNotAllowed(ctx);

    section('a signed identity follows the user to another device');
    const devices = await identityFollowsTheUser(ctx);
    section('a forged identity');
    await forgedIdentityIsRefused(ctx, devices.secret);
    section('several conversations: a new one, past ones, back to the first');
    await severalConversations(ctx, devices);
    section(`a page in French (${cfg.frenchUrl})`);
    await frenchPage(ctx);
    check('no uncaught error on the identity and French pages', watch.pageErrors.length === 0, watch.pageErrors.join('; '));

    section('phone-sized screen, dark mode, reduced motion, brand contrast');
    await deviceSettingsAreFollowed(ctx);
    section("the owner's settings: color, corner, title, greeting, icon, preload");
    await ownerSettingsAreApplied(ctx);
    section('a host page with hostile CSS');
    await hostileCssChangesNothing(ctx);
    watch.checkNoDialogs();
    if (failures.length > 0) {
      console.log(`FAIL ${failures.length} check(s) failed:\n  - ${failures.join('\n  - ')}`);
      return 1;
    }
    console.log('PASS every widget check');
    return 0;
  } catch (e) {
    if (failures.length > 0) console.log(`     earlier failures:\n  - ${failures.join('\n  - ')}`);
    if (e instanceof CheckFailed) {
      console.log(`FAIL ${e.message}`);
    } else {
      console.log(`FAIL (error in the test script) ${e.stack}`);
      if (page) console.log(`     the widget shows ${await describe(page)}`);
    }
    if (page && !page.isClosed()) {
      const shot = path.join(cfg.screenshotDir, 'failure.png');
      await page.screenshot({ path: shot }).then(() => console.log(`     screenshot: ${shot}`), () => {});
    }
    return 1;
  } finally {
    clearTimeout(timer);
    await browser.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.log(`FAIL ${e instanceof CheckFailed ? e.message : e.stack}`);
    process.exit(1);
  },
);
