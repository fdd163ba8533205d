/**
 * The `monitors` table (migration 0011): one row per monitor, its definition
 * and its alert states as JSON. Only this module writes SQL for monitors.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../store/schema.js';
import type { AlertState } from '../alerts/index.js';
import type { Monitor, MonitorDefinition } from './types.js';

type Db = Kysely<Database> | Transaction<Database>;
export type MonitorRow = Database['monitors'] extends infer T ? { [K in keyof T]: T[K] } : never;

export type AlertStates = Record<string, AlertState>;

export const findMonitor = (db: Db, name: string) => db.selectFrom('monitors').selectAll().where('name', '=', name).executeTakeFirst();

export function toMonitor(row: { monitor_id: string; definition: string; executions: number; last_run_time: number | null; creation_time: number; last_updated_time: number }): Monitor {
  const def = JSON.parse(row.definition) as MonitorDefinition;
  return {
    ...def,
    monitorId: row.monitor_id,
    executions: Number(row.executions),
    lastRunTime: row.last_run_time === null ? null : Number(row.last_run_time),
    creationTime: Number(row.creation_time),
    lastUpdatedTime: Number(row.last_updated_time),
  };
}

export async function insertMonitor(db: Db, id: string, def: MonitorDefinition, time: number): Promise<void> {
  await db
    .insertInto('monitors')
    .values({ monitor_id: id, name: def.name, definition: JSON.stringify(def), alert_state: '{}', executions: 0, last_run_time: null, creation_time: time, last_updated_time: time })
    .execute();
}

export async function listMonitorRows(db: Db) {
  return db.selectFrom('monitors').selectAll().orderBy('name', 'asc').execute();
}

export async function deleteMonitorRow(db: Db, id: string): Promise<void> {
  await db.deleteFrom('monitors').where('monitor_id', '=', id).execute();
}

/**
 * Records one execution: the new alert states and the execution count, only
 * if no other execution was recorded since this one read the row (false then).
 */
export async function saveExecution(db: Db, id: string, states: AlertStates, executions: number, time: number): Promise<boolean> {
  const r = await db
    .updateTable('monitors')
    .set({ alert_state: JSON.stringify(states), executions, last_run_time: time })
    .where('monitor_id', '=', id)
    .where('executions', '=', executions - 1)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
