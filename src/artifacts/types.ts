/**
 * The blob store interface. Keys are relative POSIX paths ("runs/ab12/model.onnx");
 * every backend validates them with `validateArtifactPath` before touching storage.
 */
import type { Readable } from 'node:stream';

export interface ArtifactStat {
  /** Key relative to the store root. */
  path: string;
  isDir: boolean;
  /** Bytes; 0 for directories. */
  size: number;
  modifiedAt: number;
}

export interface ArtifactStore {
  /** A URI naming the root, for messages and run records ("file:///…", "s3://…"). */
  readonly rootUri: string;
  /** Writes a blob atomically: readers see the old content or the whole new one, never a part. */
  put(key: string, body: Readable | Uint8Array | string): Promise<ArtifactStat>;
  /** Streams a blob; FW_NOT_FOUND when absent. */
  get(key: string): Promise<Readable>;
  stat(key: string): Promise<ArtifactStat | null>;
  /** Direct children of a directory key ("" for the root), sorted by path. */
  list(prefix: string): Promise<ArtifactStat[]>;
  /** Removes a blob or a whole directory; true when something was removed. */
  delete(key: string): Promise<boolean>;
}
