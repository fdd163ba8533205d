/** Mergeable column profiles: the monitoring slice's summaries of live and reference data. */
export {
  CategoricalProfile,
  mergeAllProfiles,
  mergeProfiles,
  NumericProfile,
  PROFILE_FORMAT,
  profileColumn,
  profileFromJSON,
  profileToJSON,
  type CategoricalProfileJSON,
  type CategoricalValue,
  type ColumnProfile,
  type ColumnProfileJSON,
  type NumericProfileJSON,
  type NumericStats,
  type ProfileOptions,
} from './column-profile.js';
export { FrequentItems, FREQUENT_DEFAULT_K, type FrequentItem, type FrequentItemsJSON } from './frequent.js';
export {
  categoryCountsFromProfile,
  cdfFromProfile,
  histogramFromProfile,
  quantilesFromProfile,
  type CategoryCounts,
  type ProfileHistogram,
} from './histogram.js';
export { HyperLogLog, HLL_DEFAULT_PRECISION, hllStandardError, type HllJSON } from './hll.js';
export { KllSketch, KLL_DEFAULT_K, kllRankError, type KllJSON } from './kll.js';
export { Moments, type MomentsJSON } from './moments.js';
