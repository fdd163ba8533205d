/**
 * A real Flywheel server for tests: a fresh embedded store in a temp dir,
 * `buildApp` listening on an ephemeral port of 127.0.0.1, closed afterwards.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { resolveConfig } from '../../src/core/config.js';
import { buildApp } from '../../src/server/app.js';
import { openContext } from '../../src/server/context.js';

export interface TestServer {
  url: string;
  home: string;
  close(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-server-'));
  // An empty environment: FLYWHEEL_DB and friends of the developer's shell must not leak in.
  const ctx = await openContext(resolveConfig({ home }, {}));
  const app = await buildApp(ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    home,
    async close() {
      await app.close();
      await ctx.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
