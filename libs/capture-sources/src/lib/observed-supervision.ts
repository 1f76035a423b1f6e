import { ColorMatrix } from '@iev/frame-protocol';
import { RepeatedFailureFilter } from '@iev/service-runtime';
import type { Logger } from 'pino';
import type { SupervisionListener } from './source-supervisor';

/** The metrics a supervised source's state moves, however a module names and labels them. */
export interface SourceStateMetrics {
  /** 1 while the source delivers frames, 0 once it failed or ended. */
  setUp(up: 0 | 1): void;
  /** A failure, restarted after a backoff. */
  countRestart(): void;
  /** Time a source was down: added as an outage goes on (at each retry) and at its end, so a long one shows before it ends. */
  addDownSeconds(seconds: number): void;
  /** A source switched to make-before-break failed before its first frame; the running one delivers on. */
  countSwitchFailure(): void;
}

/**
 * A supervisor's listener as the modules want it: the source's state into their metrics, and a log line a change.
 * While a source keeps failing, its failure is logged the first time, when the reason changes, then every tenth
 * attempt (as the edgeHub connection's are): a camera unplugged for a day is retried ~3,000 times at the 30 s cap.
 */
export function observedSupervision(metrics: SourceStateMetrics, logger: Logger): SupervisionListener {
  let attempts = 0;
  const repeats = new RepeatedFailureFilter();
  /**
   * During an outage, up to when its time is added to the down time: its first failure, then each retry's
   * (performance.now(): a clock set back must not make the counter go down, which prom-client throws on).
   */
  let downAddedUntil: number | undefined;
  /** Failures of sources switched to make-before-break, told apart: the running source is up meanwhile. */
  const switchRepeats = new RepeatedFailureFilter();
  const addDownTime = (now: number) => {
    if (downAddedUntil !== undefined) metrics.addDownSeconds((now - downAddedUntil) / 1000);
  };
  return {
    streaming: ({ width, height, colorMatrix, fullRange, downSeconds }) => {
      attempts = 0;
      metrics.setUp(1);
      addDownTime(performance.now());
      downAddedUntil = undefined;
      logger.info({ width, height, colorMatrix: colorMatrix === undefined ? undefined : ColorMatrix[colorMatrix], fullRange, downSeconds }, 'source streaming');
    },
    failed: (error, retryInMs) => {
      const now = performance.now();
      metrics.setUp(0);
      metrics.countRestart();
      addDownTime(now);
      downAddedUntil = now;
      attempts++;
      if (repeats.worthSaying(attempts, error.message)) {
        const attempt = attempts === 1 ? '' : ` (attempt ${attempts}; logged again when the reason changes or every tenth attempt)`;
        logger.error({ err: error, retryInMs, attempt: attempts }, `source failed: ${error.message}; retrying${attempt}`);
      }
    },
    // Counted by the switch, not here: a newer switch, or one asked for again after a patch back, starts at 1.
    switchFailed: (error, retryInMs, switchAttempt) => {
      metrics.countSwitchFailure();
      if (switchRepeats.worthSaying(switchAttempt, error.message)) {
        const attempt = switchAttempt === 1 ? '' : ` (attempt ${switchAttempt}; logged again when the reason changes or every tenth attempt)`;
        logger.warn({ err: error, retryInMs, attempt: switchAttempt }, `switch pending, the running source keeps delivering: ${error.message}; retrying${attempt}`);
      }
    },
    ended: () => {
      metrics.setUp(0);
      logger.info('source ended (a file plays once with CAPTURE_LOOP=false): no more frames until a twin change switches it');
    },
  };
}
