// Loaded with `node --import` before every docs sample (test/docs-samples.test.ts): the samples are the code
// users copy, so they listen on the ports a user would (3000, 9100); here every listen() takes a free port
// instead, and the sample's checks find the servers it started in `listening()`.
import net from 'node:net';

const servers = [];
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnAFreePort(...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) args[0] = 0;
  else if (args[0] !== null && typeof args[0] === 'object' && 'port' in args[0]) args[0] = { ...args[0], port: 0, host: '127.0.0.1' };
  servers.push(this);
  return listen.apply(this, args);
};

/** The servers the sample started, once each listens: `[{ server, url }]` in the order they were started. */
globalThis.listening = async function listening() {
  await Promise.all(servers.map((s) => (s.listening ? null : new Promise((resolve) => s.once('listening', resolve)))));
  return servers.map((server) => ({ server, url: `http://127.0.0.1:${server.address().port}` }));
};
