// Starts the dashboard: instantiates the wasm module (its `start` mounts the app). A script
// file rather than inline code, so the page's CSP can forbid inline scripts.
import init from '/app/__GLUE__';

// The owner's console is a second module, fetched the first time an owner opens one of its
// screens (dashboard/src/console.rs): resolves to its exports once its wasm is instantiated.
let consoleModule;
window.conciergeConsole = () => {
  consoleModule ??= import('/app/__CONSOLE_GLUE__').then((m) =>
    m.default({ module_or_path: '/app/__CONSOLE_WASM__' }).then(() => m));
  // A failed download may be retried by the next navigation.
  consoleModule.catch(() => { consoleModule = undefined; });
  return consoleModule;
};

init({ module_or_path: '/app/__WASM__' }).catch((e) => {
  const p = document.createElement('p');
  p.setAttribute('role', 'alert');
  p.textContent = 'The dashboard could not start: ' + e + '. Reload the page; if it keeps failing, your browser may not support WebAssembly.';
  document.body.append(p);
});
