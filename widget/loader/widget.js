/* Concierge widget loader: draws the launcher in a shadow root and loads the chat (wasm) on
   first open, or when the browser is idle if the owner opted in. Hand-written and tiny: it
   runs on every page view of the host site. `cargo xtask widget` fills in the asset names
   and strips comments and indentation. */
(() => {
  let s = document.currentScript, d = document, w = window;
  if (!s || w.Concierge) return;
  let K = s.getAttribute("data-site-key") || "", B = new URL(s.src).origin,
    A = B + "/widget/", L = {}, I = null, X = null, P = null, C = {}, open = 0;
  let host = d.createElement("concierge-widget"), r = host.attachShadow({ mode: "open" });
  // :host rules marked !important win over the page's own !important rules (CSS Scoping).
  r.innerHTML = '<style>:host{all:initial!important;position:fixed!important;z-index:2147483000!important;bottom:20px!important;right:20px!important;display:block!important}:host::before,:host::after{content:none!important;display:none!important}:host(.cw-left){right:auto!important;left:20px!important}.cw-launcher{all:initial;box-sizing:border-box;width:56px;height:56px;border-radius:50%;background:var(--cw-brand,#2563eb);color:var(--cw-on-brand,#fff);display:flex;align-items:center;justify-content:center;cursor:pointer;box-shadow:0 4px 14px #0005;position:relative;font:700 26px system-ui,sans-serif}.cw-launcher:focus-visible{outline:3px solid #111;outline-offset:3px;box-shadow:0 0 0 6px #fff}svg{width:28px;fill:currentColor}.cw-badge{all:initial;position:absolute;top:-4px;right:-4px;min-width:20px;border-radius:10px;background:#b91c1c;color:#fff;font:700 12px/20px system-ui,sans-serif;text-align:center;padding:0 5px}[hidden]{display:none}</style><button class="cw-launcher" type="button" aria-label="Open chat" aria-expanded="false" aria-haspopup="dialog"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg><span class="cw-badge" hidden></span></button>';
  let btn = r.querySelector("button");
  let emit = (e, v) => (L[e] || []).forEach(f => queueMicrotask(() => f(v)));
  let theme = c => {
    host.style.setProperty("--cw-brand", c.color);
    host.style.setProperty("--cw-on-brand", c.on_color);
    if (c.position == "left") host.classList.add("cw-left");
    btn.setAttribute("aria-label", { fr: "Ouvrir le chat", es: "Abrir el chat", de: "Chat öffnen" }[(c.language || d.documentElement.lang || navigator.language).slice(0, 2).toLowerCase()] || "Open chat");
    if (c.launcher_icon == "help") btn.firstChild.outerHTML = "?";
    if (c.launcher_icon == "mail") btn.querySelector("path").setAttribute("d", "M2 5h20v14H2zm10 7 8-5H4z");
  };
  let cfg = fetch(B + "/api/widget/config?site_key=" + encodeURIComponent(K))
    .then(res => res.json().then(j => res.ok ? { config: j } : { error: j }), () => ({ error: { code: "offline", message: "" } }))
    .then(c => { C = c; if (c.config) { theme(c.config); if (c.config.preload) (w.requestIdleCallback || setTimeout)(load) } });
  let load = () => P || (P = cfg.then(() => {
    let l = d.createElement("link");
    l.rel = "stylesheet"; l.href = A + "__CSS__"; r.append(l);
    return import(A + "__JS__").then(m => m.default({ module_or_path: A + "__WASM__" }).then(() => {
      X = m.start(r, { server: B, site_key: K, config: C.config, error: C.error, identity: I, emit });
      emit("ready"); return X;
    }));
  }).catch(e => { P = null; emit("error", { code: "unavailable", message: "" + e }); throw e }));
  let api = w.Concierge = {
    open: () => load().then(x => x.open()),
    close: () => X && X.close(),
    identify: i => { I = i; X && X.identify(i) },
    on: (e, f) => (L[e] = L[e] || []).push(f)
  };
  btn.onclick = () => X ? X.toggle() : api.open();
  try { open = JSON.parse(localStorage.getItem("concierge:" + K)).open } catch (e) { }
  let mount = () => { d.body.append(host); if (open) api.open() };
  d.body ? mount() : d.addEventListener("DOMContentLoaded", mount);
})();
