/**
 * Turns every failure into a JSON body with a stable code. MLflow routes answer
 * in MLflow's shape ({"error_code", "message"}); Flywheel's own routes answer
 * {"error": {"code", "message"}}. Unexpected errors are logged, never shown.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, FlywheelError, type ErrorCode } from '../core/errors.js';

export const MLFLOW_PREFIXES = ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow', '/api/2.0/mlflow-artifacts'];

export function isMlflowUrl(url: string): boolean {
  return MLFLOW_PREFIXES.some((p) => url.startsWith(p));
}

/** Maps Fastify's own errors (body limits, schema validation, bad content) to our codes. */
export function toFlywheelError(err: unknown): FlywheelError {
  if (err instanceof FlywheelError) return err;
  const e = err as FastifyError;
  if (e?.validation) return new FlywheelError('FW_INVALID_ARGUMENT', `Invalid request: ${e.message}`);
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new FlywheelError('FW_PAYLOAD_TOO_LARGE', 'Request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new FlywheelError('FW_MALFORMED_REQUEST', e.message);
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new FlywheelError('FW_INVALID_ARGUMENT', e.message);
  }
  return new FlywheelError('FW_INTERNAL', 'Internal server error');
}

/** The Open Inference Protocol's routes answer errors as {"error": "..."}. */
export function isV2Url(url: string): boolean {
  return url === '/v2' || url.startsWith('/v2/') || url.startsWith('/v2?');
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: FlywheelError): FastifyReply {
  reply.code(err.status).type('application/json');
  const retryAfter = err.details?.retryAfterSeconds;
  if (typeof retryAfter === 'number' || err.code === 'FW_OVERLOADED' || err.code === 'FW_NOT_READY') reply.header('retry-after', String(typeof retryAfter === 'number' ? retryAfter : 1));
  if (isV2Url(request.url)) return reply.send({ error: err.message });
  if (isMlflowUrl(request.url) || request.url.startsWith('/invocations')) return reply.send({ error_code: err.mlflowCode, message: err.message });
  return reply.send({ error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } });
}

export function errorHandler(this: unknown, error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const fw = toFlywheelError(error);
  if (fw.code === 'FW_INTERNAL' || fw.code === 'FW_PREDICTION_FAILED') request.log.error({ err: error }, fw.code === 'FW_INTERNAL' ? 'unhandled error' : 'prediction failed');
  return sendError(request, reply, fw);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return sendError(request, reply, new FlywheelError('FW_ROUTE_NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}`));
}

/** The closed set of codes, for the OpenAPI document and docs. */
export function errorCatalog(): { code: ErrorCode; status: number; description: string }[] {
  return (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => ({ code, status: ERROR_CODES[code].status, description: ERROR_CODES[code].description }));
}
