/** Identifiers: run ids are 32 lowercase hex characters, as MLflow's are. */
import { randomUUID } from 'node:crypto';

export function newRunId(): string {
  return randomUUID().replaceAll('-', '');
}

export const RUN_ID_PATTERN = /^[0-9a-f]{32}$/;
