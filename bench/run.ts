/**
 * `npm run bench -- <name> [args]`: runs bench/<name>.ts. Each benchmark measures
 * itself against a named baseline in the same run and prints, as its last
 * line, one JSON object {"bench", "figures", "targets", "met"}.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.test.ts'))
  .map((f) => f.slice(0, -3));

const [name, ...rest] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [options]`);
  process.exit(2);
}
process.argv = [process.argv[0], path.join(here, `${name}.ts`), ...rest];
await import(pathToFileURL(path.join(here, `${name}.ts`)).href);
