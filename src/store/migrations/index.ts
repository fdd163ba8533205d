/**
 * The one ordered list of migrations, shared by every dialect. A migration is
 * never edited once released: add the next number instead.
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import type { StoreAdapter } from '../adapter.js';
import * as m0001 from './0001_tracking.js';
import * as m0002 from './0002_lineage.js';
import * as m0003 from './0003_data.js';
import * as m0004 from './0004_quality.js';
import * as m0005 from './0005_suites.js';
import * as m0006 from './0006_pipelines.js';
import * as m0007 from './0007_schedules.js';
import * as m0008 from './0008_pipeline_workers.js';
import * as m0009 from './0009_registry.js';
import * as m0010 from './0010_serving.js';
import * as m0011 from './0011_monitoring.js';

type AdapterMigration = { up(db: Kysely<any>, adapter: StoreAdapter): Promise<void> };

const MIGRATIONS: Record<string, AdapterMigration> = {
  '0001_tracking': m0001,
  '0002_lineage': m0002,
  '0003_data': m0003,
  '0004_quality': m0004,
  '0005_suites': m0005,
  '0006_pipelines': m0006,
  '0007_schedules': m0007,
  '0008_pipeline_workers': m0008,
  '0009_registry': m0009,
  '0010_serving': m0010,
  '0011_monitoring': m0011,
};

export class FlywheelMigrations implements MigrationProvider {
  constructor(private readonly adapter: StoreAdapter) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, m] of Object.entries(MIGRATIONS)) out[name] = { up: (db) => m.up(db, this.adapter) };
    return out;
  }
}

export const LATEST_MIGRATION = Object.keys(MIGRATIONS).at(-1)!;
