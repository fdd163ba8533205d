/**
 * How `models import` registers the version it packaged: a small interface,
 * so the CLI can wire another registry (a remote one) without touching the
 * import. The default opens the registry on this process's store and calls
 * RegistryService.createModelVersion, creating the registered model on its
 * first version. Against a server (--tracking-uri) it refuses up front,
 * before the import writes anything.
 */
import os from 'node:os';
import { invalidArgument } from '../core/errors.js';
import { resolveConfig } from '../core/config.js';
import type { GlobalOptions } from '../cli/session.js';
import type { Flywheel } from '../sdk/flywheel.js';

export interface RegisterVersionInput {
  name: string;
  /** `runs:/<runId>/model` */
  source: string;
  runId: string;
  description?: string;
  tags?: Record<string, string>;
}

export interface ModelRegistrar {
  register(input: RegisterVersionInput): Promise<{ name: string; version: number }>;
  close(): Promise<void>;
}

export type OpenRegistrar = (globals: GlobalOptions, fw: Flywheel) => Promise<ModelRegistrar>;

function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

/** The registry of the embedded store (the one `Flywheel.open` opened for `fw`). */
export const openEmbeddedRegistrar: OpenRegistrar = async (globals, fw) => {
  if (fw.mode === 'remote') {
    throw invalidArgument('models import registers in the local store only for now: run it without --tracking-uri (or FLYWHEEL_TRACKING_URI) on the server machine');
  }
  const [{ openStore }, { RegistryService }] = await Promise.all([import('../store/index.js'), import('../registry/service.js')]);
  const store = await openStore(resolveConfig({ home: globals.home, db: globals.db }).db);
  const registry = new RegistryService({ store, tracking: fw.tracking, actor: osUser() });
  return {
    async register(input) {
      const v = await registry.createModelVersion({ ...input, createModel: true });
      return { name: v.name, version: v.version };
    },
    close: () => store.close(),
  };
};
