import { RepeatedFailureFilter } from '@iev/service-runtime';

/** How loudly a failure to reach edgeHub is logged; 'debug' for one that tells nothing new. */
export type EdgeFailureLevel = 'info' | 'warn' | 'debug';

/** One failed attempt to reach edgeHub, as whoever retries it sees it. */
export interface EdgeFailureSeen {
  /**
   * edgeHub not there yet while the module awaits its first connection (EdgeModule.awaitingFirstConnection,
   * EdgeNotConnectedError.awaitingFirstConnection): IoT Edge's normal boot order, not an outage.
   */
  awaitingFirstConnection: boolean;
  /** Failed attempts in a row, this one included: 1 is the first since the last success (or since start). */
  attempt: number;
  /** The failure in words: a cause other than the last failure's is news. Unset: only the attempt tells. */
  cause?: string;
}

/**
 * Which failures to reach edgeHub are said, and how loudly, for one run of attempts (a module's link, telemetry's
 * upstream sends): the wait for the first connection once at info, however many other failures come between; any
 * other failure warns when it is news (the first since the last success, another cause, the first after that wait),
 * then every tenth attempt, so a long outage does not flood the log; the rest at debug.
 */
export class EdgeFailureLog {
  private readonly repeats = new RepeatedFailureFilter();
  private saidAwaiting = false;
  private lastAwaiting = false;

  levelOf({ awaitingFirstConnection, attempt, cause }: EdgeFailureSeen): EdgeFailureLevel {
    const firstAfterWait = this.lastAwaiting;
    this.lastAwaiting = awaitingFirstConnection;
    if (awaitingFirstConnection) {
      const level = this.saidAwaiting ? 'debug' : 'info';
      this.saidAwaiting = true;
      return level;
    }
    return this.repeats.worthSaying(attempt, cause) || firstAfterWait ? 'warn' : 'debug';
  }
}
