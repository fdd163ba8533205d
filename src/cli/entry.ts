/** Runs the CLI from source (`node --import tsx src/cli/entry.ts …`), for tests and development. */
import { main } from './main.js';

await main(process.argv);
