/// <reference types="jest" /> // withChromium wraps jest's it
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineProcess } from './line-process';
import { freePort } from './ports';
import { eventually } from './wait';

// `ws` comes with the workspace (a dependency of the IoT SDK's transports); Node.js 20 has no WebSocket of its own.
const WebSocket = require('ws') as new (url: string, options?: { perMessageDeflate: boolean; maxPayload: number }) => CdpSocket;

interface CdpSocket {
  on(event: 'message', listener: (data: Buffer) => void): void;
  once(event: 'open' | 'error', listener: (error?: Error) => void): void;
  send(data: string): void;
  close(): void;
}

type CdpResult = Record<string, unknown>;

/** The Chromium the browser tests drive: CHROMIUM_PATH's, else one installed where Debian and Ubuntu put it; none skips them. */
export const INSTALLED_CHROMIUM = process.env['CHROMIUM_PATH'] ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((path) => existsSync(path));
/** `it` where a Chromium is installed, else `it.skip`; the test's title says why it is skipped. */
export const withChromium = (title: string, test: () => Promise<void>, timeoutMs?: number) =>
  INSTALLED_CHROMIUM ? it(title, test, timeoutMs) : it.skip(`${title} (skipped: no Chromium installed; set CHROMIUM_PATH)`, test, timeoutMs);

/**
 * The installed Chromium, headless, driven over the DevTools protocol on its own websocket (no puppeteer): one page
 * target, commands sent and their results awaited.
 */
export class HeadlessChromium {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (result: CdpResult) => void; reject: (error: Error) => void }>();
  private readonly listeners = new Map<string, (params: CdpResult) => void>();

  private constructor(
    private readonly process: LineProcess,
    private readonly profileDir: string,
    private readonly socket: CdpSocket,
  ) {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString('utf8')) as { id?: number; method?: string; params?: CdpResult; result?: CdpResult; error?: { message: string } };
      if (message.method !== undefined) this.listeners.get(message.method)?.(message.params ?? {});
      const waiter = message.id === undefined ? undefined : this.pending.get(message.id);
      if (!waiter || message.id === undefined) return;
      this.pending.delete(message.id);
      if (message.error) waiter.reject(new Error(message.error.message));
      else waiter.resolve(message.result ?? {});
    });
  }

  static async launch(binary = 'chromium'): Promise<HeadlessChromium> {
    const port = await freePort();
    const profileDir = mkdtempSync(join(tmpdir(), 'iev-chromium-'));
    const browser = new LineProcess('chromium', binary, [
      '--headless',
      '--no-sandbox', // tests run as root here
      '--disable-gpu',
      '--no-first-run',
      `--remote-debugging-port=${port}`,
      '--remote-debugging-address=127.0.0.1',
      `--user-data-dir=${profileDir}`,
      '--window-size=1000,800',
      'about:blank',
    ]);
    const pageUrl = await eventually(
      async () => {
        // Refused until Chromium listens.
        const targets = (await fetch(`http://127.0.0.1:${port}/json/list`).then((response) => response.json(), () => [])) as Array<{ type: string; webSocketDebuggerUrl: string }>;
        return targets.find((target) => target.type === 'page')?.webSocketDebuggerUrl;
      },
      () => `Chromium's page target on port ${port}; its output:\n${browser.output.slice(-10).join('\n')}`,
      { timeoutMs: 30_000, intervalMs: 200 },
    ).catch((error: Error) => {
      browser.child.kill('SIGKILL');
      throw error;
    });
    const socket = new WebSocket(pageUrl, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new HeadlessChromium(browser, profileDir, socket);
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<CdpResult> {
    const id = this.nextId++;
    this.socket.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  /** Calls `listener` with each event `method` the page sends (one listener a method; enable its domain first). */
  on(method: string, listener: (params: CdpResult) => void): void {
    this.listeners.set(method, listener);
  }

  /** The value of a JavaScript expression in the page (awaited when it is a promise). */
  async evaluate<T>(expression: string): Promise<T> {
    const { result, exceptionDetails } = (await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })) as {
      result: { value: T };
      exceptionDetails?: { text: string };
    };
    if (exceptionDetails) throw new Error(`${expression}: ${exceptionDetails.text}`);
    return result.value;
  }

  async screenshot(): Promise<Buffer> {
    const { data } = (await this.send('Page.captureScreenshot', { format: 'png' })) as { data: string };
    return Buffer.from(data, 'base64');
  }

  async close(): Promise<void> {
    this.socket.close();
    // SIGTERM lets Chromium take its renderer and helper processes down with it.
    this.process.child.kill('SIGTERM');
    const killer = setTimeout(() => this.process.child.kill('SIGKILL'), 5000);
    await this.process.exited;
    clearTimeout(killer);
    rmSync(this.profileDir, { recursive: true, force: true });
  }
}
