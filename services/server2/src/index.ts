// server2's entry points for tools that build it in process (tests, the benchmarks).
export { type ActivityReport, activityReport } from './activity/activity-report.js';
export { buildApp, type Server2Deps } from './app.js';
export { loadConfig, type Server2Config } from './config.js';
export { type ApiRoutesOptions, apiRoutes } from './routes/api.js';
