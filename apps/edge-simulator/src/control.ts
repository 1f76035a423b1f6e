import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { EdgeHubEmulator } from '@iev/edge-hub-emulator';
import { executeCommand, type Command, type CommandResult } from './commands';
import { SimulatorError, UsageError } from './errors';

/** Where a running simulator says how to reach its control endpoint. */
export const controlFile = (stateDir: string) => join(stateDir, 'control.json');

interface ControlInfo {
  port: number;
  pid: number;
  token: string;
}

/**
 * A small HTTP endpoint on 127.0.0.1 through which `edge-simulator twin|invoke|modules` reach the running
 * simulator. The port and a token are in <stateDir>/control.json (mode 600), so only this user's commands work.
 */
export async function startControlServer(hub: EdgeHubEmulator, stateDir: string, moduleIds: readonly string[]): Promise<{ close(): Promise<void> }> {
  const token = randomBytes(16).toString('hex');
  const server = createServer((request, response) => {
    const reply = (status: number, body: CommandResult) => response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    if (request.headers['x-simulator-token'] !== token) return reply(403, { ok: false, result: { message: 'bad or missing x-simulator-token' } });
    if (request.method !== 'POST' || request.url !== '/command') return reply(404, { ok: false, result: { message: 'POST /command' } });
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let command: Command;
      try {
        command = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reply(400, { ok: false, result: { message: 'the body is not a JSON command' } });
      }
      executeCommand(hub, command, moduleIds).then(
        (result) => reply(200, result),
        (err: Error) => reply(err instanceof UsageError ? 400 : 500, { ok: false, result: { message: err.message } }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const info: ControlInfo = { port: (server.address() as AddressInfo).port, pid: process.pid, token };
  writeFileSync(controlFile(stateDir), JSON.stringify(info), { mode: 0o600 });
  return {
    close: async () => {
      // Another simulator may have taken the state dir over since: its file is not ours to remove.
      try {
        if ((JSON.parse(readFileSync(controlFile(stateDir), 'utf8')) as ControlInfo).token === token) rmSync(controlFile(stateDir), { force: true });
      } catch {
        // Already gone.
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Sends a command to the simulator running with this state dir; throws an Error a person can act on. */
export async function sendCommand(stateDir: string, command: Command): Promise<CommandResult> {
  let info: ControlInfo;
  try {
    info = JSON.parse(readFileSync(controlFile(stateDir), 'utf8'));
  } catch {
    throw new SimulatorError(`no simulator is running with state dir ${stateDir} (no ${controlFile(stateDir)}): start one with \`npm run simulate\``);
  }
  let response: Response;
  try {
    response = await fetch(`http://127.0.0.1:${info.port}/command`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'x-simulator-token': info.token },
      body: JSON.stringify(command),
    });
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new SimulatorError(`the simulator (pid ${info.pid}) does not answer on 127.0.0.1:${info.port} (${cause}); if it is gone, remove ${controlFile(stateDir)}`);
  }
  return (await response.json()) as CommandResult;
}
