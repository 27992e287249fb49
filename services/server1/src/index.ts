export { buildApp, type Server1Deps } from './app.js';
export { createScryptHasher, type PasswordHasher, SCRYPT_DEFAULTS } from './auth/password-hasher.js';
export { type ClientRegistration, loadConfig, type Server1Config } from './config.js';
export { END_SESSION_PATH } from './routes/end-session.js';
export type { StoredKey } from './stores/key-store.js';
export type { LogoutDelivery } from './stores/logout-outbox.js';
export { type OpenStoresOptions, openStores, type Server1Stores } from './stores/open-stores.js';
export { DEMO_USERS } from './stores/seed-demo-users.js';
