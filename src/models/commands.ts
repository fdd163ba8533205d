/**
 * `flywheel models import model.onnx --name churn`: brings a model trained
 * anywhere (scikit-learn, XGBoost, PyTorch exported to ONNX) into Flywheel as
 * an `onnx` package and registers it as a new version of `churn`.
 *
 * Everything that can be wrong with the input — an unreadable ONNX file, a
 * signature that does not match the model's inputs, classes that do not match
 * its probability columns, a bad model name — is checked before anything is
 * written, so a refused import leaves no run and the registry unchanged. The
 * run lives in the experiment `models/<name>` and holds the package under
 * `model/`.
 *
 * The signature comes from --signature (a JSON file: `{ inputs, outputs? }`
 * or just the inputs array), else from --data's schema (the columns the model
 * takes by name, or all but --target for a model with one [N, F] input),
 * else from the model's own named inputs and their element types.
 *
 * Registration goes through a `ModelRegistrar` (registrar.ts by default, the
 * registry's RegistryService.createModelVersion in this process), passed in so
 * the CLI can wire another one.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { invalidArgument } from '../core/errors.js';
import { FLYWHEEL_VERSION } from '../core/version.js';
import { print, renderPairs, toJson } from '../cli/output.js';
import type { GlobalOptions } from '../cli/session.js';
import { Flywheel } from '../sdk/flywheel.js';
import { validateModelName } from '../registry/rules.js';
import {
  inferSignatureInputs,
  MANIFEST_FORMAT,
  parseSignature,
  standardOutputs,
  TASKS,
  type ModelManifest,
  type ModelSignature,
  type ModelTask,
  type SignatureInput,
} from './manifest.js';
import { writeModelPackage } from './package.js';
import { openEmbeddedRegistrar, type OpenRegistrar } from './registrar.js';

export interface ImportOptions {
  name: string;
  signature?: string;
  data?: string;
  target?: string;
  task?: ModelTask;
  classes?: string;
  description?: string;
}

export interface ImportResult {
  name: string;
  version: number;
  source: string;
  runId: string;
  manifest: ModelManifest;
}

async function readJsonFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw invalidArgument(`cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`the ${what} ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function parseClasses(text: string): string[] {
  const classes = text.split(',').map((c) => c.trim());
  if (classes.length < 2 || classes.some((c) => c === '')) throw invalidArgument(`--classes must list at least two non-empty labels separated by commas, got "${text}"`);
  if (new Set(classes).size !== classes.length) throw invalidArgument(`--classes lists the same label twice: "${text}"`);
  return classes;
}

/** Imports an ONNX file as a package and registers it (see the module comment). */
export async function importOnnxModel(fw: Flywheel, globals: GlobalOptions, file: string, opts: ImportOptions, openRegistrar: OpenRegistrar = openEmbeddedRegistrar): Promise<ImportResult> {
  const name = validateModelName(opts.name);
  if (opts.signature && opts.data) throw invalidArgument('give --signature or --data, not both');
  if (opts.task !== undefined && !(TASKS as readonly string[]).includes(opts.task)) throw invalidArgument(`--task must be one of ${TASKS.join(', ')}, got "${opts.task}"`);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    throw invalidArgument(`cannot read the model file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const base = path.basename(file);
  const onnx = await import('./flavors/onnx.js');
  const opened = await onnx.openOnnxSession(bytes, base, { readClasses: true });
  try {
    const task = opts.task ?? onnx.guessTask(opened.outputs);
    const outputPlan = onnx.planOutputs(task, opened.outputs);

    let inputs: SignatureInput[];
    let declared: ModelSignature | null = null;
    let training: Pick<ModelManifest['training'], 'dataset' | 'datasetVersionId'> = { dataset: null, datasetVersionId: null };
    if (opts.signature) {
      const raw = await readJsonFile(opts.signature, 'signature file');
      declared = parseSignature(Array.isArray(raw) ? { inputs: raw } : raw, 'signature');
      inputs = declared.inputs;
    } else if (opts.data) {
      const version = await fw.data.resolve(opts.data);
      const ref = `${version.dataset}@${version.version}`;
      if (opts.target !== undefined && !version.schema.some((c) => c.name === opts.target)) throw invalidArgument(`--target ${opts.target} is not a column of ${ref}`);
      // A model with one input per column takes those columns (in the data's order); one with a single [N, F] input takes them all but the target.
      const byName = opened.inputs.every((m) => m.name !== opts.target && version.schema.some((c) => c.name === m.name));
      const columns = byName ? version.schema.filter((c) => opened.inputs.some((m) => m.name === c.name)) : version.schema.filter((c) => c.name !== opts.target);
      inputs = inferSignatureInputs(columns);
      training = { dataset: `${version.dataset}@${version.version}`, datasetVersionId: version.id };
    } else {
      inputs = onnx.signatureInputsFromOnnx(opened.inputs, base);
    }
    const signatureInputsOnly: ModelSignature = { inputs, outputs: [] };
    onnx.planInputs(signatureInputsOnly, opened.inputs);

    let classes: string[] | null = null;
    if (task === 'classification') {
      classes = opts.classes ? parseClasses(opts.classes) : opened.graphClasses;
      if (classes && outputPlan.classCount !== undefined && classes.length !== outputPlan.classCount) {
        throw invalidArgument(`${opts.classes ? '--classes lists' : 'the model declares'} ${classes.length} classes but its probability output has ${outputPlan.classCount} columns`);
      }
      if (opts.classes && opened.graphClasses && opened.graphClasses.length !== classes!.length) {
        throw invalidArgument(`--classes lists ${classes!.length} classes but the model declares ${opened.graphClasses.length} (${opened.graphClasses.join(', ')})`);
      }
    } else if (opts.classes) {
      throw invalidArgument('--classes applies to classifiers only (this import is a regression model)');
    }
    const outputs =
      declared && declared.outputs.length > 0
        ? declared.outputs
        : standardOutputs(task, {
            labelType: task === 'classification' ? onnx.labelOutputType(outputPlan.labelType) : 'double',
            classCount: classes?.length ?? outputPlan.classCount ?? null,
            probabilities: outputPlan.probabilities !== undefined,
          });

    const registrar = await openRegistrar(globals, fw);
    try {
      const ortVersion = await onnxruntimeVersion();
      return await fw.withRun(
        { experiment: `models/${name}`, name: `import ${base}`, tags: { 'flywheel.model.import': base }, params: { source_file: base, task, flavor: 'onnx' } },
        async (run) => {
          const manifest: ModelManifest = {
            format: MANIFEST_FORMAT,
            flavor: 'onnx',
            signature: { inputs, outputs },
            task,
            classes,
            files: { model: 'model.onnx' },
            preprocessing: null,
            training: { runId: run.id, ...training, target: opts.target ?? null },
            metrics: {},
            libraries: { 'onnxruntime-node': ortVersion, flywheel: FLYWHEEL_VERSION },
            createdTime: Date.now(),
          };
          const source = await writeModelPackage(fw.tracking, run.id, { manifest, files: { 'model.onnx': bytes } });
          const registered = await registrar.register({ name, source, runId: run.id, description: opts.description });
          return { name: registered.name, version: registered.version, source, runId: run.id, manifest };
        },
      );
    } finally {
      await registrar.close();
    }
  } finally {
    await opened.session.release();
  }
}

async function onnxruntimeVersion(): Promise<string> {
  const ort = await import('onnxruntime-node');
  return ort.env.versions?.node ?? ort.env.versions?.common ?? 'unknown';
}

export interface ModelCommandExtensions {
  /** Where `models import` registers versions (default: the registry in this process's store). */
  openRegistrar?: OpenRegistrar;
}

/** The `models` group (the registry's `registerModelCommands` returns it): given, found on the program, or created. */
function modelsGroup(parent: Command): Command {
  if (parent.name() === 'models') return parent;
  return parent.commands.find((c) => c.name() === 'models') ?? parent.command('models').description('registered models, their versions, aliases and packages');
}

/** Adds `import` to the `models` group (pass the group, or the program after the registry's commands are registered). */
export function registerModelImportCommand(parent: Command, extensions: ModelCommandExtensions = {}): Command {
  const models = modelsGroup(parent);
  models
    .command('import <file>')
    .description('import an ONNX model as a package (run in experiment models/<name>) and register it as a new version')
    .requiredOption('--name <name>', 'registered model name')
    .option('--signature <file>', 'JSON signature: { "inputs": [{ "name", "type": double|long|string|boolean, "nullable" }], "outputs"? }')
    .option('--data <ref>', 'dataset version (NAME@v) whose schema gives the signature')
    .option('--target <column>', 'the label column of --data (left out of the signature, recorded in the manifest)')
    .addOption(new Option('--task <task>', 'what the model does (default: read off its outputs)').choices([...TASKS]))
    .option('--classes <labels>', 'class labels in probability-column order, comma-separated (default: read off the model)')
    .option('--description <text>', 'description of the new version')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: ImportOptions & { json?: boolean }, cmd: Command) => {
      const globals = cmd.optsWithGlobals() as GlobalOptions;
      const fw = await Flywheel.open({ home: globals.home, db: globals.db, trackingUri: globals.trackingUri, flushIntervalMs: 0 });
      try {
        const r = await importOnnxModel(fw, globals, file, opts, extensions.openRegistrar);
        if (opts.json) {
          print(toJson(r));
          return;
        }
        const m = r.manifest;
        print(`Imported ${path.basename(file)} as ${r.name} version ${r.version}`);
        print(
          renderPairs([
            ['Source', r.source],
            ['Flavor', m.flavor],
            ['Task', m.task ?? ''],
            ['Classes', m.classes?.join(', ') ?? ''],
            ['Inputs', m.signature.inputs.map((i) => `${i.name} ${i.type}${i.nullable ? '?' : ''}`).join(', ')],
            ['Outputs', m.signature.outputs.map((o) => `${o.name} ${o.type}${o.shape ? `[${o.shape.join(',')}]` : ''}`).join(', ')],
            ['Dataset', m.training.dataset ?? ''],
          ]),
        );
      } finally {
        await fw.close();
      }
    });
  return models;
}
