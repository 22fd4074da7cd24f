// One line per check; the first failure ends the run with a clear message.

const started = Date.now();

export class CheckFailed extends Error {}

function stamp() {
  return `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s`;
}

/**
 * With E2E_KEEP_GOING=1 a failed plain check is printed and the run goes on (waits that time
 * out still stop it), to see every failure of a run at once; the exit code is still 1.
 */
const keepGoing = process.env.E2E_KEEP_GOING === '1';
export const failures = [];

/** Prints `ok   name` when `condition` holds; otherwise fails with `why`. */
export function check(name, condition, why = '') {
  if (!condition) {
    const message = `${name}${why ? `: ${why}` : ''}`;
    if (!keepGoing) throw new CheckFailed(message);
    failures.push(message);
    console.log(`${stamp()} FAIL ${message}`);
    return false;
  }
  console.log(`${stamp()} ok   ${name}`);
  return true;
}

/** Prints an informational line (not a check). */
export function info(text) {
  console.log(`${stamp()} ..   ${text}`);
}

/** Prints a scenario heading. */
export function section(title) {
  console.log(`${stamp()} ---- ${title}`);
}

/** Awaits `promise`, turning a timeout or error into a failed check named `name`. */
export async function expectWithin(name, promise, why) {
  try {
    const value = await promise;
    check(name, true);
    return value;
  } catch (e) {
    if (e instanceof CheckFailed) throw e;
    const reason = typeof why === 'function' ? await why().catch((x) => String(x)) : why;
    throw new CheckFailed(`${name}: ${reason || e.message.split('\n')[0]}`);
  }
}

/** Reads a required environment variable. */
export function env(name, fallback) {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === '') {
    throw new CheckFailed(`environment variable ${name} is not set (tests/it/widget_e2e.rs sets it)`);
  }
  return value;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
