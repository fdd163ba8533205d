/**
 * Loads the pipelines of a file: YAML (`flywheel.yaml`, yaml.ts) or a
 * TypeScript/JavaScript module whose exports are `definePipeline(…)` results
 * (the default export may also be an array of them). A module's definitions
 * remember the module's absolute path (`def.module`), which is how a worker
 * process — on this machine or another — finds a function step's code again:
 * a function cannot travel, the module path can.
 *
 * TypeScript modules load through tsx's ESM loader, registered on first use,
 * since Node 20 cannot strip types itself.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { invalidArgument } from '../core/errors.js';
import type { PipelineDefinition } from './types.js';
import { loadPipelinesYaml } from './yaml.js';

const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);

export function isPipelineModule(file: string): boolean {
  return MODULE_EXTENSIONS.has(path.extname(file).toLowerCase());
}

let tsxRegistered = false;

async function registerTsx(): Promise<void> {
  if (tsxRegistered || process.execArgv.some((a) => a.includes('tsx'))) return;
  const { register } = await import('tsx/esm/api');
  register();
  tsxRegistered = true;
}

function isDefinition(value: unknown): value is PipelineDefinition {
  return typeof value === 'object' && value !== null && typeof (value as PipelineDefinition).name === 'string' && Array.isArray((value as PipelineDefinition).steps);
}

/** The pipeline definitions a module exports, each with `module` set to the module's absolute path. */
export async function loadPipelineModule(file: string): Promise<PipelineDefinition[]> {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw invalidArgument(`pipeline file ${file} does not exist`);
  if (/\.m?ts$/i.test(abs)) await registerTsx();
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (err) {
    // Definitions validate while the module loads: their FlywheelErrors pass through unchanged.
    if (err instanceof Error && 'code' in err && String((err as { code: unknown }).code).startsWith('FW_')) throw err;
    throw invalidArgument(`cannot load pipeline module ${file}: ${(err as Error).message?.split('\n')[0] ?? String(err)}`);
  }
  const found: PipelineDefinition[] = [];
  const seen = new Set<PipelineDefinition>();
  for (const value of Object.values(mod)) {
    for (const candidate of Array.isArray(value) ? value : [value]) {
      if (isDefinition(candidate) && !seen.has(candidate)) {
        seen.add(candidate);
        found.push(candidate);
      }
    }
  }
  if (found.length === 0) throw invalidArgument(`pipeline module ${file} exports no pipeline (export the result of definePipeline)`);
  const names = new Set<string>();
  for (const def of found) {
    if (names.has(def.name)) throw invalidArgument(`pipeline module ${file} exports two pipelines named "${def.name}"`);
    names.add(def.name);
    def.module = abs;
  }
  return found;
}

/** The pipelines of a YAML file or a TS/JS module. */
export async function loadPipelineFile(file: string): Promise<PipelineDefinition[]> {
  return isPipelineModule(file) ? loadPipelineModule(file) : loadPipelinesYaml(file);
}

/** One pipeline of a file by name; FW_INVALID_ARGUMENT listing the others when absent. */
export async function findPipeline(file: string, name: string): Promise<PipelineDefinition> {
  const defs = await loadPipelineFile(file);
  const def = defs.find((d) => d.name === name);
  if (!def) throw invalidArgument(`${file} has no pipeline "${name}" (pipelines: ${defs.map((d) => d.name).join(', ') || 'none'})`);
  return def;
}
