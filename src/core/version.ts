/** Versions reported by /version, the OpenAPI document and the CLI. */
export const FLYWHEEL_VERSION = '0.1.0';
/** The MLflow REST API release whose shapes the /api/2.0/mlflow routes follow. */
export const MLFLOW_API_VERSION = '2.22.0';
