import { join } from 'node:path';
import { LineProcess } from '@iev/testing';

export const WORKSPACE_ROOT = join(__dirname, '../../..');
export const DEMO_VIDEO = join(WORKSPACE_ROOT, 'assets/demo/demo.mp4');

/** One built module (dist/apps/<name>/main.js) run as a real process, with its output lines collected. */
export class ModuleProcess extends LineProcess {
  constructor(name: string, env: Record<string, string>) {
    super(name, process.execPath, [join(WORKSPACE_ROOT, 'dist/apps', name, 'main.js')], { cwd: WORKSPACE_ROOT, env: { ...process.env, ...env } });
  }

  /** The pino log objects on stdout. */
  logs(): Record<string, unknown>[] {
    return this.stdout.filter((line) => line.startsWith('{"level"')).map((line) => JSON.parse(line));
  }

  /** The port its metrics/health server listens on (it logs it once started). */
  metricsPort(): Promise<number> {
    return this.waitFor(
      () => this.logs().find((log) => typeof log['metricsPort'] === 'number')?.['metricsPort'] as number | undefined,
      'the metrics port',
    );
  }
}
