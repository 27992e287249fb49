export { Browser, type Page } from './browser.js';
export { type Claims, withOverrides } from './claims.js';
export { T0, T0_MS, type TestClock, testClock } from './clock.js';
export { CookieJar, type CookieResponse } from './cookie-jar.js';
export { type HandoffRun, handoff, signOut } from './flows.js';
export { findForm, hiddenField, type ParsedForm, parseForms } from './html-form.js';
export { type LoopbackServer, listenOnLoopback } from './http-server.js';
export { type BrowseOptions, browse, formPost, type Injectable, InjectBrowser } from './inject.js';
export { waitFor, within } from './polling.js';
export {
  freePort,
  type KeysCliRun,
  type PairOptions,
  type PairTlsFiles,
  runKeysCommand,
  type ServicePair,
  type ServiceProcess,
  startPair,
  startService,
  tempDir,
} from './service-process.js';
export { parseSetCookie, type SetCookie, setCookieHeaders, setCookieOf, setCookiesOf } from './set-cookie.js';
export { type E2eTarget, e2eTarget } from './targets.js';
export { createTestCa, type TestCa, type TestCertificate } from './test-ca.js';
export { type TestAgentOptions, testAgent } from './tls-client.js';
export { generateTestKey, jwksOf, mintToken, segment, segmentsOf, type TestKey } from './tokens.js';
