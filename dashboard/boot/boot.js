// Starts the dashboard: instantiates the wasm module (its `start` mounts the app). A script
// file rather than inline code, so the page's CSP can forbid inline scripts.
import init from '/app/__GLUE__';

init({ module_or_path: '/app/__WASM__' }).catch((e) => {
  const p = document.createElement('p');
  p.setAttribute('role', 'alert');
  p.textContent = 'The dashboard could not start: ' + e + '. Reload the page; if it keeps failing, your browser may not support WebAssembly.';
  document.body.append(p);
});
