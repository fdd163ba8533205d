/**
 * The quality slice's public surface: suites (YAML, JSON or `defineSuite`),
 * validation of a committed version (QualityService) or of a Parquet file
 * before it is committed (validateParquet), the quarantine predicate for
 * `data add`, and the registry of suites by name (SuiteRegistry). The CLI
 * (commands.ts) and REST (routes.ts) registrations are imported from their
 * own files by src/cli and src/server.
 */
export type * from './types.js';
export { defineSuite, parseSuite, parseSuiteYaml, loadSuiteFile, suiteHash } from './suite.js';
export { QualityService, type QualityServiceOptions, type ValidateOptions } from './service.js';
export { validateParquet, type ValidationContext } from './runner.js';
export { failingRowsPredicate } from './compile.js';
export { addWithSuite, checkSuiteDataset, quarantineRequest, SuiteFailedError, FAILED_CHECKS_COLUMN, type SuiteAddDeps, type SuiteAddOptions, type SuiteAddResult } from './add-with-suite.js';
export { SuiteRegistry, SUITE_NAME_PATTERN, validateSuiteName, suiteFromFileOrRegistry, type SuiteRegistryOptions } from './registry.js';
