/**
 * Every error Flywheel reports to a user, in one closed set.
 *
 * Each code has a fixed HTTP status and an MLflow `error_code` (the MLflow REST
 * API speaks those names). The server turns a FlywheelError into a JSON body,
 * the CLI into one line and exit code 2. Codes are never reused once retired.
 */

export interface ErrorSpec {
  /** HTTP status the server answers with. */
  readonly status: number;
  /** MLflow's ErrorCode name, used on the /api/2.0/mlflow routes. */
  readonly mlflow: string;
  readonly description: string;
}

export const ERROR_CODES = {
  FW_INVALID_ARGUMENT: { status: 400, mlflow: 'INVALID_PARAMETER_VALUE', description: 'A field is missing, of the wrong type or out of range.' },
  FW_MALFORMED_REQUEST: { status: 400, mlflow: 'MALFORMED_REQUEST', description: 'The request body could not be parsed.' },
  FW_FILTER_SYNTAX: { status: 400, mlflow: 'INVALID_PARAMETER_VALUE', description: 'A search filter or order_by clause does not parse.' },
  FW_NOT_FOUND: { status: 404, mlflow: 'RESOURCE_DOES_NOT_EXIST', description: 'The named resource does not exist.' },
  FW_ALREADY_EXISTS: { status: 400, mlflow: 'RESOURCE_ALREADY_EXISTS', description: 'A resource with that name already exists.' },
  FW_CONFLICT: { status: 400, mlflow: 'INVALID_PARAMETER_VALUE', description: 'The change contradicts recorded state (for example a param logged again with another value).' },
  FW_INVALID_STATE: { status: 400, mlflow: 'INVALID_STATE', description: 'The resource is in a state that forbids the operation (for example a deleted run).' },
  FW_LIMIT_EXCEEDED: { status: 400, mlflow: 'INVALID_PARAMETER_VALUE', description: 'A request exceeds a documented limit.' },
  FW_PAYLOAD_TOO_LARGE: { status: 413, mlflow: 'INVALID_PARAMETER_VALUE', description: 'The request body is larger than allowed.' },
  FW_UNSAFE_PATH: { status: 400, mlflow: 'INVALID_PARAMETER_VALUE', description: 'An artifact path is absolute, escapes its root or holds a NUL byte.' },
  FW_SUITE_FAILED: { status: 422, mlflow: 'INVALID_PARAMETER_VALUE', description: 'A quality suite refused the data (an error-severity check failed); nothing was committed.' },
  FW_OVERLOADED: { status: 503, mlflow: 'TEMPORARILY_UNAVAILABLE', description: 'The server is at capacity (a bounded queue is full or a request waited too long in it); retry after the Retry-After header.' },
  FW_NOT_READY: { status: 503, mlflow: 'TEMPORARILY_UNAVAILABLE', description: 'The deployment or model is not ready to serve (still loading, or no revision could be loaded).' },
  FW_PREDICTION_FAILED: { status: 500, mlflow: 'INTERNAL_ERROR', description: 'The model raised an error on this request; the message says what it raised, and the server keeps serving.' },
  FW_ROUTE_NOT_FOUND: { status: 404, mlflow: 'ENDPOINT_NOT_FOUND', description: 'No route matches the method and URL.' },
  FW_CONFIG: { status: 500, mlflow: 'INTERNAL_ERROR', description: 'Flywheel is misconfigured (for example an unreachable database URL).' },
  FW_INTERNAL: { status: 500, mlflow: 'INTERNAL_ERROR', description: 'An unexpected failure; details are in the server log, not the response.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class FlywheelError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'FlywheelError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  get mlflowCode(): string {
    return ERROR_CODES[this.code].mlflow;
  }
}

export const invalidArgument = (message: string, details?: Record<string, unknown>) =>
  new FlywheelError('FW_INVALID_ARGUMENT', message, details);

export const notFound = (message: string) => new FlywheelError('FW_NOT_FOUND', message);

export const alreadyExists = (message: string) => new FlywheelError('FW_ALREADY_EXISTS', message);

export function isFlywheelError(err: unknown): err is FlywheelError {
  return err instanceof FlywheelError;
}
