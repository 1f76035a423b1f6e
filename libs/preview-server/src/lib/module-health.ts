/** One module's health as the page shows it. */
export interface ModuleHealthState {
  name: string;
  url: string;
  status: 'up' | 'down' | 'unhealthy' | 'unknown';
  /** Why it is down or unhealthy (the error, or the module's own report), when it is. */
  detail?: string;
  checkedAt?: string;
}

/**
 * Polls the other modules' /health (their METRICS_PORT): 200 is up, another answer unhealthy (the report says why,
 * e.g. inference still loading its model), no answer within the timeout down.
 */
export class ModuleHealth {
  private readonly states: ModuleHealthState[];
  private timer?: NodeJS.Timeout;

  constructor(
    urls: Readonly<Record<string, string>>,
    private readonly intervalMs = 2000,
    private readonly timeoutMs = 1500,
  ) {
    this.states = Object.entries(urls).map(([name, url]) => ({ name, url, status: 'unknown' }));
  }

  start(): void {
    void this.checkAll();
    this.timer = setInterval(() => void this.checkAll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  modules(): ModuleHealthState[] {
    return this.states.map((state) => ({ ...state }));
  }

  async checkAll(): Promise<void> {
    await Promise.all(this.states.map((state) => this.check(state)));
  }

  private async check(state: ModuleHealthState): Promise<void> {
    try {
      const response = await fetch(state.url, { signal: AbortSignal.timeout(this.timeoutMs) });
      const body = await response.text();
      Object.assign(state, response.ok ? { status: 'up', detail: undefined } : { status: 'unhealthy', detail: `HTTP ${response.status}: ${body.slice(0, 200)}` });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      Object.assign(state, { status: 'down', detail: cause ?? (error as Error).message });
    }
    state.checkedAt = new Date().toISOString();
  }
}
