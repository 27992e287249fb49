import { createSqliteRelyingStores, type RelyingStores } from '@jwt-handoff/shared';
import { type BrokenAppOptions, buildRelyingApp } from './relying-app.js';

/**
 * BROKEN (2): the single-use check removed. The plugin's own routes, with stores whose replay
 * store answers "first use" every time, as one that forgot to record jtis (or recorded the
 * token string, which a re-spelled signature changes) would.
 */
export async function buildJtiCheckRemovedApp(options: BrokenAppOptions) {
  const sound = createSqliteRelyingStores({
    dataDir: options.dataDir,
    sessionTimeouts: { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 },
  });
  const stores: RelyingStores = {
    sessions: sound.sessions,
    txns: sound.txns,
    revocations: sound.revocations,
    activity: sound.activity,
    usedJtis: {
      markUsed: async () => true,
      count: () => sound.usedJtis.count(),
    },
    close: () => sound.close?.() ?? Promise.resolve(),
  };
  return buildRelyingApp(options, {
    stores,
    routes(app) {
      // Stores passed to the plugin are the app's to close.
      app.addHook('onClose', async () => stores.close?.());
    },
  });
}
