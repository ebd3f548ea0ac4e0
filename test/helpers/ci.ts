/**
 * Tests that need something outside npm (a data set, Chromium, a compiler) skip, saying so,
 * where it is missing. Under CI=true such a skip would hide a broken install step in .ci/run,
 * which installs all of them, so there it is a failure instead.
 */
export function missingIn(what: string, present: boolean): boolean {
  if (!present && process.env.CI === 'true') {
    throw new Error(`${what} is missing, but .ci/run installs it (CI=true): a skip here would hide a broken install step`);
  }
  return !present;
}
