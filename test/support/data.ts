/**
 * A DataService on a fresh embedded store for tests: SQLite (or a given
 * store) in a temp dir, a local artifact store, and a one-thread DuckDB
 * engine. `dispose` closes everything and removes the temp dir.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalArtifactStore } from '../../src/artifacts/local.js';
import { Engine } from '../../src/engine/index.js';
import { DataService, type DataServiceDeps } from '../../src/data/service.js';
import { openStore, type Store } from '../../src/store/index.js';

export const DATA_FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/data');

export interface DataHarness {
  data: DataService;
  store: Store;
  engine: Engine;
  /** Root folder of the artifact store. */
  artifactsRoot: string;
  /** A scratch folder for source files. */
  dir: string;
  /** Writes a file into `dir` and returns its path. */
  write(name: string, content: string | Buffer): string;
  /** Parquet blobs currently in the artifact store. */
  blobs(): string[];
  dispose(): Promise<void>;
}

export async function openDataHarness(options: { store?: Store; deps?: Partial<DataServiceDeps> } = {}): Promise<DataHarness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-data-test-'));
  const store = options.store ?? (await openStore(`sqlite:${path.join(dir, 'flywheel.db')}`));
  const engine = await Engine.open({ threads: 1, memoryLimit: '512MB' });
  const artifactsRoot = path.join(dir, 'artifacts');
  const data = new DataService({ store, artifacts: new LocalArtifactStore(artifactsRoot), engine, actor: 'tester', ...options.deps });
  const src = path.join(dir, 'src');
  fs.mkdirSync(src);
  return {
    data,
    store,
    engine,
    artifactsRoot,
    dir: src,
    write(name, content) {
      const file = path.join(src, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
      return file;
    },
    blobs() {
      const blobDir = path.join(artifactsRoot, 'datasets', 'blobs');
      return fs.existsSync(blobDir) ? fs.readdirSync(blobDir).sort() : [];
    },
    async dispose() {
      engine.close();
      if (!options.store) await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
