import { runService } from '@jwt-handoff/shared';
import { buildBillingApp } from './billing-app.js';
import { type BillingConfig, loadConfig } from './config.js';

// The only file that reads process.env and listens. The app is the README's example, kept as
// short as it is there (no logger), so this wrapper says when it is up: after listen resolved,
// which is how `npm start` knows that the port is served by this process and not another.
let publicUrl = '';
await runService(
  'billing',
  () => {
    const config = loadConfig(process.env);
    publicUrl = config.publicUrl;
    return config;
  },
  (config) => buildBillingApp(config as BillingConfig),
);
console.log(`billing is up at ${publicUrl}`);
