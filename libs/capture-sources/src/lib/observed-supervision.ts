import { ColorMatrix } from '@iev/frame-protocol';
import type { Logger } from 'pino';
import type { SupervisionListener } from './source-supervisor';

/** The metrics a supervised source's state moves, however a module names and labels them. */
export interface SourceStateMetrics {
  /** 1 while the source delivers frames, 0 once it failed or ended. */
  setUp(up: 0 | 1): void;
  /** A failure, restarted after a backoff. */
  countRestart(): void;
  /** How long an outage lasted, once frames come again. */
  addDownSeconds(seconds: number): void;
}

/** A supervisor's listener as the modules want it: the source's state into their metrics, and a log line a change. */
export function observedSupervision(metrics: SourceStateMetrics, logger: Logger): SupervisionListener {
  return {
    streaming: ({ width, height, colorMatrix, fullRange, downSeconds }) => {
      metrics.setUp(1);
      if (downSeconds !== undefined) metrics.addDownSeconds(downSeconds);
      logger.info({ width, height, colorMatrix: colorMatrix === undefined ? undefined : ColorMatrix[colorMatrix], fullRange, downSeconds }, 'source streaming');
    },
    failed: (error, retryInMs) => {
      metrics.setUp(0);
      metrics.countRestart();
      logger.error({ err: error, retryInMs }, `source failed: ${error.message}; retrying`);
    },
    ended: () => {
      metrics.setUp(0);
      logger.info('source ended (a file plays once with CAPTURE_LOOP=false): no more frames until a twin change switches it');
    },
  };
}
