/**
 * Cron schedules of the pipelines in flywheel.yaml, fired by `flywheel
 * server`. Each scheduled pipeline has a row in `pipeline_schedules` (cron,
 * timezone, missed policy, last tick fired, next tick); a new schedule starts
 * from the moment it is first seen, a changed cron or timezone starts over.
 *
 * On every check (`tick(now)`, once a second by default) the ticks in
 * (last_fire_time, now] decide:
 * - none: nothing to do;
 * - one, at most `graceMs` (default 60 s) ago: it is on time — fire it;
 * - more, or an older one: ticks were missed (no server was running). Policy
 *   `skip` (the default) fires nothing and moves on to the next future tick;
 *   `catch_up_one` fires once now, however many were missed.
 * Either way the tick is first claimed with a conditional UPDATE
 * (`… set last_fire_time = :tick where pipeline = :p and last_fire_time <
 * :tick`), and fired only by the server whose UPDATE changed the row — so
 * several servers on one database fire each tick once (SQLite and
 * PostgreSQL alike). Firing starts `PipelineHost.start` with trigger
 * `schedule`; the run goes on in the background.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { compileCron, type CompiledCron } from './cron.js';
import type { PipelineHost } from './host.js';
import type { PipelineDefinition, ScheduleSpec } from './types.js';

export const DEFAULT_GRACE_MS = 60_000;

export interface SchedulerDeps {
  db: Kysely<Database>;
  host: Pick<PipelineHost, 'start'>;
  /** The current pipelines (re-read on every sync). */
  definitions: () => PipelineDefinition[];
  now?: () => number;
  graceMs?: number;
  log?: (message: string) => void;
}

export interface ScheduleState {
  pipeline: string;
  cron: string;
  timezone: string;
  missed: string;
  lastFireTime: number;
  nextFireTime: number | null;
}

/** What one check did for one pipeline. */
export interface TickOutcome {
  pipeline: string;
  tick: number;
  action: 'fired' | 'skipped-missed' | 'claimed-elsewhere';
  pipelineRunId?: string;
}

export class PipelineScheduler {
  private schedules = new Map<string, { spec: ScheduleSpec; cron: CompiledCron }>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;
  private readonly log: (message: string) => void;

  constructor(private readonly deps: SchedulerDeps) {
    this.now = deps.now ?? Date.now;
    this.log = deps.log ?? ((m) => process.stderr.write(`flywheel: ${m}\n`));
  }

  /** Loads the schedules from the definitions and records new or changed ones. */
  async sync(now = this.now()): Promise<void> {
    const db = this.deps.db;
    this.schedules = new Map();
    for (const def of this.deps.definitions()) {
      if (!def.schedule) continue;
      const spec = def.schedule;
      const cron = compileCron(spec.cron, spec.timezone);
      this.schedules.set(def.name, { spec, cron });
      const row = { pipeline: def.name, cron: spec.cron, timezone: spec.timezone, missed: spec.missed, last_fire_time: now, next_fire_time: cron.next(now), updated_time: now };
      await db.insertInto('pipeline_schedules').values(row).onConflict((oc) => oc.column('pipeline').doNothing()).execute();
      // Another cron or zone: its ticks are not comparable with the old ones, start over from now.
      await db
        .updateTable('pipeline_schedules')
        .set({ cron: spec.cron, timezone: spec.timezone, last_fire_time: now, next_fire_time: cron.next(now), updated_time: now })
        .where('pipeline', '=', def.name)
        .where((eb) => eb.or([eb('cron', '<>', spec.cron), eb('timezone', '<>', spec.timezone)]))
        .execute();
      await db.updateTable('pipeline_schedules').set({ missed: spec.missed }).where('pipeline', '=', def.name).where('missed', '<>', spec.missed).execute();
    }
  }

  /** Checks every schedule against `now`; fires what is due. */
  async tick(now = this.now()): Promise<TickOutcome[]> {
    const db = this.deps.db;
    const graceMs = this.deps.graceMs ?? DEFAULT_GRACE_MS;
    const out: TickOutcome[] = [];
    for (const [pipeline, { spec, cron }] of this.schedules) {
      const row = await db.selectFrom('pipeline_schedules').select(['last_fire_time']).where('pipeline', '=', pipeline).executeTakeFirst();
      if (!row) continue;
      const last = Number(row.last_fire_time);
      const due = cron.ticksIn(last, now);
      if (due.count === 0) continue;
      const missed = due.count > 1 || now - due.latest > graceMs;
      const claimed = await db
        .updateTable('pipeline_schedules')
        .set({ last_fire_time: due.latest, next_fire_time: cron.next(now), updated_time: now })
        .where('pipeline', '=', pipeline)
        .where('last_fire_time', '<', due.latest)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) {
        out.push({ pipeline, tick: due.latest, action: 'claimed-elsewhere' });
        continue;
      }
      if (missed && spec.missed === 'skip') {
        this.log(`schedule of pipeline ${pipeline}: skipped missed tick(s) up to ${new Date(due.latest).toISOString()} (missed: skip)`);
        out.push({ pipeline, tick: due.latest, action: 'skipped-missed' });
        continue;
      }
      const detail = { tick: new Date(due.latest).toISOString(), cron: spec.cron, ...(missed ? { catchUp: true } : {}) };
      try {
        const pipelineRunId = await this.deps.host.start(pipeline, { trigger: 'schedule', detail });
        out.push({ pipeline, tick: due.latest, action: 'fired', pipelineRunId });
      } catch (err) {
        this.log(`schedule of pipeline ${pipeline}: could not start a run: ${(err as Error).message}`);
      }
    }
    return out;
  }

  /** The recorded state of every schedule row. */
  async states(): Promise<ScheduleState[]> {
    const rows = await this.deps.db.selectFrom('pipeline_schedules').selectAll().orderBy('pipeline').execute();
    return rows.map((r) => ({
      pipeline: r.pipeline,
      cron: r.cron,
      timezone: r.timezone,
      missed: r.missed,
      lastFireTime: Number(r.last_fire_time),
      nextFireTime: r.next_fire_time === null ? null : Number(r.next_fire_time),
    }));
  }

  /** Syncs, then checks every `intervalMs` until stop(). A failing check is logged, never fatal. */
  async start(intervalMs = 1000): Promise<void> {
    await this.sync();
    const loop = () => {
      this.running = this.tick().catch((err: unknown) => this.log(`scheduler: ${(err as Error).message}`));
      void this.running.finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(loop, intervalMs);
      });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
