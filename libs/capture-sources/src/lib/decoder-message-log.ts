import type { Logger } from 'pino';
import type { DecoderMessageListener } from './frame-source';

/** After a decoder message is logged, the next line about them waits at least this long. */
const DECODER_MESSAGE_LOG_INTERVAL_MS = 60_000;

/**
 * A running decoder's warnings and errors (DecoderMessageListener), each counted and logged without flooding the log:
 * a damaged file or a lossy stream writes one or more a frame, for hours. The first is logged at once; the ones that
 * follow within the interval, as one line when it is over, saying how many and the latest.
 */
export function loggedDecoderMessages(logger: Logger, count: () => void, intervalMs = DECODER_MESSAGE_LOG_INTERVAL_MS): DecoderMessageListener {
  let loggedAt = Number.NEGATIVE_INFINITY;
  let held = 0;
  let latest = '';
  let summary: NodeJS.Timeout | undefined;
  const logHeld = () => {
    summary = undefined;
    loggedAt = performance.now();
    logger.warn({ decoderMessages: held, latest }, `decoder: ${held} more message${held === 1 ? '' : 's'} since the last; the latest: ${latest}`);
    held = 0;
  };
  return (message) => {
    count();
    const now = performance.now();
    if (!summary && now - loggedAt >= intervalMs) {
      loggedAt = now;
      logger.warn({ decoderMessage: message }, `decoder: ${message}`);
      return;
    }
    held++;
    latest = message;
    // A module that stops meanwhile does not wait for it.
    summary ??= setTimeout(logHeld, loggedAt + intervalMs - now).unref();
  };
}
