export { buildApp, type Server2Deps } from './app.js';
export { loadConfig, type Server2Config } from './config.js';
export { HANDOFF_STATE_TTL_MS } from './handoff/state-cookie.js';
export { TXN_TTL_MS } from './routes/handoff.js';
