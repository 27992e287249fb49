// Preloaded into the local topology's service processes (`node --import`): answers the public host
// names listed in RESOLVE_TO_LOOPBACK with 127.0.0.1, so that server1 reaches server2's back-channel
// and API, and server2 reaches server1's JWKS, through nginx by their public names, as the compose
// topology's DNS does, without editing /etc/hosts. Every other name goes to the system resolver.
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';

const names = new Set((process.env.RESOLVE_TO_LOOPBACK ?? '').split(',').filter(Boolean));
const systemLookup = dns.lookup;

dns.lookup = function lookup(hostname, options, callback) {
  if (!names.has(hostname)) return systemLookup.call(this, hostname, options, callback);
  const done = typeof options === 'function' ? options : callback;
  const all = typeof options === 'object' && options !== null && options.all === true;
  // net.connect asks for every address (`all`) when it may try several (autoSelectFamily).
  if (all) process.nextTick(done, null, [{ address: '127.0.0.1', family: 4 }]);
  else process.nextTick(done, null, '127.0.0.1', 4);
};
// Modules that import { lookup } from 'node:dns' see the replacement too.
syncBuiltinESMExports();
