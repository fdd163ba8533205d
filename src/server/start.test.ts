import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../core/config.js';
import { FlywheelError } from '../core/errors.js';
import { startServer, type RunningServer } from './start.js';

const dirs: string[] = [];
const servers: RunningServer[] = [];

function tempConfig() {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-start-'));
  dirs.push(home);
  return resolveConfig({ home }, {});
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('startServer', () => {
  it('listens on an ephemeral port and reports the URL it bound', async () => {
    const server = await startServer({ host: '127.0.0.1', port: 0, config: tempConfig() });
    servers.push(server);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('refuses a port already in use with a FlywheelError naming the port', async () => {
    const first = await startServer({ host: '127.0.0.1', port: 0, config: tempConfig() });
    servers.push(first);
    const err = await startServer({ host: '127.0.0.1', port: first.port, config: tempConfig() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlywheelError);
    expect((err as FlywheelError).code).toBe('FW_CONFIG');
    expect((err as FlywheelError).message).toBe(`port ${first.port} on 127.0.0.1 is already in use; stop the other server or pick another with --port`);
  });

  it('stops accepting connections after close, and close can be called twice', async () => {
    const server = await startServer({ host: '127.0.0.1', port: 0, config: tempConfig() });
    await server.close();
    await server.close();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});
