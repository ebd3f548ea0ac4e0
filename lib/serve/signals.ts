/**
 * SIGTERM / SIGINT: drain, then exit. Readiness goes false at once (a load balancer stops
 * sending), new requests get 503, requests in flight finish, and the process exits 0, or 1 when
 * the drain timeout cut requests off. A second signal exits at once.
 */
import type { ConvnodeServer } from './server.js';

export function installSignalDrain(server: ConvnodeServer, exit: (code: number) => void = (code) => process.exit(code)): () => void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      server.app.log.warn({ signal }, 'second signal: exiting without waiting');
      exit(1);
      return;
    }
    signalled = true;
    server.app.log.info({ signal, inFlight: server.inFlight }, 'draining');
    server.drain().then(
      (clean) => {
        server.app.log.info({ clean }, clean ? 'drained; exiting' : 'drain timeout passed with requests in flight; exiting');
        exit(clean ? 0 : 1);
      },
      (error: unknown) => {
        server.app.log.error({ err: error }, 'drain failed');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
