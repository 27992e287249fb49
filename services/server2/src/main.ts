import { runService } from '@jwt-handoff/shared';
import { buildApp } from './app.js';
import { loadConfig, type Server2Config } from './config.js';

// The only file that reads process.env and listens.
await runService(
  'server2',
  () => loadConfig(process.env),
  (config) => buildApp(config as Server2Config),
);
