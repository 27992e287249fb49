// The stores and the activity report, for tools that exercise server2's own code in process
// (the benchmarks' in-process bound).
export { type ActivityReport, activityReport } from './activity/activity-report.js';
export { buildApp, type Server2Deps } from './app.js';
export { loadConfig, type Server2Config } from './config.js';
export { HANDOFF_STATE_TTL_MS } from './handoff/state-cookie.js';
export { TXN_TTL_MS } from './routes/handoff.js';
export { createSqliteActivityStore } from './stores/activity-store.js';
export { openServer2Database } from './stores/database.js';
export { createSqliteReplayStore } from './stores/replay-store.js';
export { createSqliteSessionStore } from './stores/session-store.js';
export { createSqliteTxnStore } from './stores/txn-store.js';
