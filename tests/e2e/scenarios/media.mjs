// The widget follows the visitor's device: full screen on a phone-sized viewport, dark colors
// when the system asks for them, no animation with reduced motion, readable text on the brand.
import { check, info } from '../lib/report.mjs';
import { launcherShown, openPage, openPanel, probe } from '../lib/widget.mjs';

/** WCAG contrast of two `rgb(r, g, b)` strings. */
function contrast(a, b) {
  const lum = (css) => {
    const [r, g, b] = css.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const panelStyle = () => {
  const t = window.__cwTest;
  const panel = t.q('.cw-panel');
  const header = t.q('.cw-header');
  const box = panel.getBoundingClientRect();
  const s = getComputedStyle(panel);
  const h = getComputedStyle(header);
  return {
    box: { x: box.x, y: box.y, width: box.width, height: box.height },
    viewport: { width: innerWidth, height: innerHeight },
    background: s.backgroundColor,
    color: s.color,
    animation: s.animationName,
    header: { background: h.backgroundColor, color: h.color },
  };
};

export async function deviceSettingsAreFollowed({ browser, watch, cfg }) {
  const phone = await openPage(browser, watch, cfg.hostUrl, 'phone-sized dark', {
    viewport: { width: 390, height: 740 },
    colorScheme: 'dark',
    reducedMotion: 'reduce',
  });
  try {
    await launcherShown(phone);
    await openPanel(phone, 'the panel opens on a 390 px wide screen');
    const s = await probe(phone, panelStyle);
    info(`panel on the phone: ${JSON.stringify(s)}`);
    check(
      'under 480 px the panel fills the screen',
      s.box.x === 0 && s.box.y === 0 && s.box.width === s.viewport.width && s.box.height === s.viewport.height,
      JSON.stringify(s.box),
    );
    check('dark mode gives the panel a dark background', contrast(s.background, 'rgb(0, 0, 0)') < 2, s.background);
    check('text on the dark panel meets WCAG AA', contrast(s.background, s.color) >= 4.5, `${s.color} on ${s.background}`);
    check('reduced motion turns the opening animation off', s.animation === 'none', s.animation);
    check(
      'text on the brand-colored header meets WCAG AA',
      contrast(s.header.background, s.header.color) >= 4.5,
      `${s.header.color} on ${s.header.background}`,
    );
  } finally {
    await phone.context().close();
  }
  const desktop = await openPage(browser, watch, cfg.hostUrl, 'desktop light', { colorScheme: 'light' });
  try {
    await launcherShown(desktop);
    await openPanel(desktop, 'the panel opens on a desktop screen');
    const s = await probe(desktop, panelStyle);
    check('on a desktop the panel is a corner window, not full screen', s.box.width < s.viewport.width / 2, JSON.stringify(s.box));
    check('light mode gives the panel a light background', contrast(s.background, 'rgb(255, 255, 255)') < 2, s.background);
    check('text on the light panel meets WCAG AA', contrast(s.background, s.color) >= 4.5, `${s.color} on ${s.background}`);
  } finally {
    await desktop.context().close();
  }
}
