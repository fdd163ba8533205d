/**
 * The append-only audit log: every state change, who made it and when.
 * Slices record events through this service inside their own transactions,
 * so a change and its event land together.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

export interface EventRecord {
  eventId: number;
  time: number;
  actor: string;
  kind: string;
  entityType: string;
  entityId: string;
  payload: Record<string, unknown>;
}

export interface NewEvent {
  actor: string;
  kind: string;
  entityType: string;
  entityId: string;
  payload?: Record<string, unknown>;
  time?: number;
}

export async function recordEvent(db: Kysely<Database>, e: NewEvent): Promise<void> {
  await db
    .insertInto('events')
    .values({
      time: e.time ?? Date.now(),
      actor: e.actor,
      kind: e.kind,
      entity_type: e.entityType,
      entity_id: e.entityId,
      payload: JSON.stringify(e.payload ?? {}),
    })
    .execute();
}

export interface EventQuery {
  entityType?: string;
  entityId?: string;
  /** Only events with an id greater than this (for tailing). */
  after?: number;
  limit?: number;
}

export async function listEvents(db: Kysely<Database>, q: EventQuery = {}): Promise<EventRecord[]> {
  let query = db.selectFrom('events').selectAll();
  if (q.entityType) query = query.where('entity_type', '=', q.entityType);
  if (q.entityId) query = query.where('entity_id', '=', q.entityId);
  if (q.after !== undefined) query = query.where('event_id', '>', q.after);
  const rows = await query.orderBy('event_id', 'asc').limit(q.limit ?? 1000).execute();
  return rows.map((r) => ({
    eventId: Number(r.event_id),
    time: r.time,
    actor: r.actor,
    kind: r.kind,
    entityType: r.entity_type,
    entityId: r.entity_id,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
  }));
}
