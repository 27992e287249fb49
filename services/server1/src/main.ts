import { runService } from '@jwt-handoff/shared';
import { buildApp } from './app.js';
import { loadConfig, type Server1Config } from './config.js';

// The only file that reads process.env and listens.
await runService(
  'server1',
  () => loadConfig(process.env),
  (config) => buildApp(config as Server1Config),
);
