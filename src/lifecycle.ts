import type { Logger } from 'pino';
import { ConfigError, loadConfigFromProcess, type Config } from './config.js';

/** The configuration, or a one-line message naming the bad variable and exit 1. */
export function configOrExit(): Config {
  try {
    return loadConfigFromProcess();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`Configuration error: ${err.message}\n`);
    process.exit(1);
  }
}

/**
 * On SIGTERM or SIGINT, runs `close` once and exits 0 when it finishes, 1 if it fails or
 * takes longer than `timeoutMs`.
 */
export function exitOnSignal(log: Logger, timeoutMs: number, what: string, close: () => Promise<void>): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, `shutting down: ${what}`);
    setTimeout(() => {
      log.error('shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs).unref();
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
