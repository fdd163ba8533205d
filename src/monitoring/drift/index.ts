/**
 * Drift statistics and the drift report (issue 7, part 1). Callers use
 * `driftReport`; the individual statistics are exported for profiles and tests.
 */
export { driftReport, datasetVerdict, DEFAULT_DRIFT_SHARE } from './report.js';
// load.ts (DuckDB) is imported on its own, so statistics users never load DuckDB.
export type { ColumnSet, ColumnValues, CategoricalValues, ColumnDriftOptions, DriftOptions, ColumnDriftResult, DriftReport } from './report.js';
export { selectDefaultMethod, isDrifted, DRIFT_METHODS, METHOD_SPECS } from './select.js';
export type { DriftMethod, ColumnKind, MethodSpec, SelectionInput } from './select.js';
export { sortedCopy, countAtOrBelow, countBelow } from './sort.js';
export { ks2samp, ks2sampSorted, kstwoSf, smirnovSf, ksStatistic, KS_MAX_EXACT_N } from './ks.js';
export type { KsResult, KsMethod } from './ks.js';
export {
  chiSquareGoodnessOfFit,
  chiSquareContingency,
  zTestProportions,
  wassersteinDistance,
  wassersteinDistanceNormed,
  wassersteinDistanceSorted,
  wassersteinDistanceNormedSorted,
  populationStd,
  jensenShannonDistance,
  klDivergence,
  populationStabilityIndex,
  hellingerDistance,
} from './stats.js';
export type { TestResult, ContingencyResult } from './stats.js';
export {
  binNumeric,
  binCategorical,
  binQuantileSorted,
  countSortedByInnerEdges,
  quantileEdges,
  quantileSorted,
  sturgesEdges,
  histogramCounts,
  countByInnerEdges,
  toShares,
  fillZeroShares,
  distinctCountUpTo,
  DEFAULT_QUANTILE_BINS,
  STURGES_MIN_DISTINCT,
} from './binning.js';
export type { BinnedPair, NumericBinning } from './binning.js';
export { gammaP, gammaQ, chi2Sf, normalCdf, logGamma, erf, erfc } from './special.js';
