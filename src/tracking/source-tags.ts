/**
 * Reproducibility tags for a run, computed in the process that starts it:
 * code version (git commit, dirty flag, hash of the uncommitted diff), entry
 * point, runtime and user — the `mlflow.source.*` tags plus Flywheel's own.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';

const run = promisify(execFile);

export const SOURCE_TAGS = {
  name: 'mlflow.source.name',
  type: 'mlflow.source.type',
  gitCommit: 'mlflow.source.git.commit',
  gitBranch: 'mlflow.source.git.branch',
  gitRepoUrl: 'mlflow.source.git.repoURL',
  user: 'mlflow.user',
  gitDirty: 'flywheel.source.git.dirty',
  gitDiffHash: 'flywheel.source.git.diff_sha256',
  nodeVersion: 'flywheel.runtime.node',
  platform: 'flywheel.runtime.platform',
} as const;

async function git(cwd: string, args: string[], maxBuffer = 64 * 1024 * 1024): Promise<string | null> {
  try {
    const { stdout } = await run('git', args, { cwd, maxBuffer, encoding: 'utf8' });
    return stdout;
  } catch {
    return null;
  }
}

/**
 * Hash of everything uncommitted: the diff against HEAD (staged and unstaged)
 * plus the names and contents of untracked, non-ignored files.
 */
async function uncommittedHash(cwd: string, top: string): Promise<string> {
  const h = createHash('sha256');
  h.update((await git(cwd, ['diff', 'HEAD', '--binary'])) ?? '');
  const untracked = (await git(cwd, ['ls-files', '--others', '--exclude-standard', '-z'])) ?? '';
  for (const file of untracked.split('\0').filter(Boolean).sort()) {
    h.update(`\0untracked:${file}\0`);
    const content = await fs.readFile(path.join(top, file)).catch(() => null);
    if (content) h.update(content);
  }
  return h.digest('hex');
}

function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

const cache = new Map<string, Promise<Record<string, string>>>();

/** Source tags for code running from `cwd` with entry point `entry`; cached per process. */
export function sourceTags(cwd: string = process.cwd(), entry: string | undefined = process.argv[1]): Promise<Record<string, string>> {
  const cacheKey = `${cwd}\0${entry ?? ''}`;
  let p = cache.get(cacheKey);
  if (!p) {
    p = computeSourceTags(cwd, entry);
    cache.set(cacheKey, p);
  }
  return p;
}

async function computeSourceTags(cwd: string, entry: string | undefined): Promise<Record<string, string>> {
  const tags: Record<string, string> = {
    [SOURCE_TAGS.type]: 'LOCAL',
    [SOURCE_TAGS.user]: currentUser(),
    [SOURCE_TAGS.nodeVersion]: process.version,
    [SOURCE_TAGS.platform]: `${process.platform}-${process.arch}`,
  };
  if (entry) tags[SOURCE_TAGS.name] = path.resolve(cwd, entry);
  const top = (await git(cwd, ['rev-parse', '--show-toplevel']))?.trim();
  if (!top) return tags;
  const commit = (await git(cwd, ['rev-parse', 'HEAD']))?.trim();
  if (commit) tags[SOURCE_TAGS.gitCommit] = commit;
  const branch = (await git(cwd, ['rev-parse', '--abbrev-ref', 'HEAD']))?.trim();
  if (branch && branch !== 'HEAD') tags[SOURCE_TAGS.gitBranch] = branch;
  const remote = (await git(cwd, ['config', '--get', 'remote.origin.url']))?.trim();
  if (remote) tags[SOURCE_TAGS.gitRepoUrl] = remote;
  const status = await git(cwd, ['status', '--porcelain']);
  if (status !== null) {
    const dirty = status.trim() !== '';
    tags[SOURCE_TAGS.gitDirty] = String(dirty);
    if (dirty && commit) tags[SOURCE_TAGS.gitDiffHash] = await uncommittedHash(cwd, top);
  }
  return tags;
}
