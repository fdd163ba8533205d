/**
 * Event triggers of the pipelines in flywheel.yaml, run by `flywheel server`:
 *
 * - `{ on: dataset, dataset: orders }`: the pipeline runs when a new version
 *   of `orders` appears. The server polls each watched dataset's latest
 *   version (every 5 s by default); the last version seen per (pipeline,
 *   dataset) is kept in `pipeline_trigger_state`, so a restart does not fire
 *   again. The first sight of a trigger only records the current version (no
 *   run); a dataset that does not exist yet fires on its first version. A
 *   new version is claimed with a compare-and-set UPDATE, so with several
 *   servers only one fires.
 * - `{ on: alert, monitor: NAME }`: the hook for monitoring —
 *   `fireAlertTrigger(monitor, payload)` runs every pipeline whose trigger
 *   names that monitor, in every started PipelineTriggers of this process.
 */
import type { Kysely } from 'kysely';
import { isFlywheelError } from '../core/errors.js';
import type { DataService } from '../data/service.js';
import type { Database } from '../store/schema.js';
import type { PipelineHost } from './host.js';
import type { PipelineDefinition } from './types.js';

export const DEFAULT_POLL_MS = 5000;

export interface TriggerDeps {
  db: Kysely<Database>;
  data: Pick<DataService, 'resolve'>;
  host: Pick<PipelineHost, 'start'>;
  definitions: () => PipelineDefinition[];
  now?: () => number;
  log?: (message: string) => void;
}

export interface TriggerFire {
  pipeline: string;
  pipelineRunId: string;
}

const live = new Set<PipelineTriggers>();

/** Runs every pipeline with `{ on: alert, monitor }` (in every started trigger watcher of this process). */
export async function fireAlertTrigger(monitorName: string, payload: unknown = {}): Promise<TriggerFire[]> {
  const out: TriggerFire[] = [];
  for (const t of live) out.push(...(await t.fireAlert(monitorName, payload)));
  return out;
}

export class PipelineTriggers {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;
  private readonly log: (message: string) => void;

  constructor(private readonly deps: TriggerDeps) {
    this.now = deps.now ?? Date.now;
    this.log = deps.log ?? ((m) => process.stderr.write(`flywheel: ${m}\n`));
  }

  /** Checks every watched dataset once; starts a run per new version seen. */
  async poll(): Promise<TriggerFire[]> {
    const { db } = this.deps;
    const out: TriggerFire[] = [];
    for (const def of this.deps.definitions()) {
      for (const t of def.triggers ?? []) {
        if (t.on !== 'dataset') continue;
        const latest = await this.latestVersionId(t.dataset);
        const now = this.now();
        const row = await db.selectFrom('pipeline_trigger_state').select('last_version_id').where('pipeline', '=', def.name).where('dataset', '=', t.dataset).executeTakeFirst();
        if (!row) {
          await db
            .insertInto('pipeline_trigger_state')
            .values({ pipeline: def.name, dataset: t.dataset, last_version_id: latest, updated_time: now })
            .onConflict((oc) => oc.columns(['pipeline', 'dataset']).doNothing())
            .execute();
          continue;
        }
        if (latest === null || latest === row.last_version_id) continue;
        const old = row.last_version_id;
        const claimed = await db
          .updateTable('pipeline_trigger_state')
          .set({ last_version_id: latest, updated_time: now })
          .where('pipeline', '=', def.name)
          .where('dataset', '=', t.dataset)
          .where((eb) => (old === null ? eb('last_version_id', 'is', null) : eb('last_version_id', '=', old)))
          .executeTakeFirst();
        if (Number(claimed.numUpdatedRows) !== 1) continue;
        try {
          const pipelineRunId = await this.deps.host.start(def.name, { trigger: 'dataset', detail: { dataset: t.dataset, versionId: latest } });
          out.push({ pipeline: def.name, pipelineRunId });
        } catch (err) {
          this.log(`trigger of pipeline ${def.name} on dataset ${t.dataset}: could not start a run: ${(err as Error).message}`);
        }
      }
    }
    return out;
  }

  /** Runs the pipelines triggered by this monitor's alerts. */
  async fireAlert(monitorName: string, payload: unknown): Promise<TriggerFire[]> {
    const out: TriggerFire[] = [];
    for (const def of this.deps.definitions()) {
      if (!(def.triggers ?? []).some((t) => t.on === 'alert' && t.monitor === monitorName)) continue;
      const pipelineRunId = await this.deps.host.start(def.name, { trigger: 'alert', detail: { monitor: monitorName, payload } });
      out.push({ pipeline: def.name, pipelineRunId });
    }
    return out;
  }

  /** Registers for alerts and polls every `intervalMs` until stop(). */
  start(intervalMs = DEFAULT_POLL_MS): void {
    live.add(this);
    const loop = () => {
      this.running = this.poll().catch((err: unknown) => this.log(`dataset triggers: ${(err as Error).message}`));
      void this.running.finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(loop, intervalMs);
      });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    live.delete(this);
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async latestVersionId(dataset: string): Promise<string | null> {
    try {
      return (await this.deps.data.resolve(dataset)).id;
    } catch (err) {
      if (isFlywheelError(err) && err.code === 'FW_NOT_FOUND') return null;
      throw err;
    }
  }
}
