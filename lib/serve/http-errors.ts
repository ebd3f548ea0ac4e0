/**
 * Every failure becomes `{ error, code }` JSON with the right status. fastify's and
 * @fastify/multipart's own errors are mapped by their codes to our messages, because theirs can
 * quote the client's input (a JSON parse error repeats the bad text) or name internals.
 * Anything unexpected is a 500 with a fixed message; the details go to the log only.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { ServeError, type ErrorBody, type ServeErrorCode } from './errors.js';

/** fastify / multipart error codes -> what the client is told. */
const KNOWN: Record<string, [number, ServeErrorCode, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'BODY_TOO_LARGE', 'the request body is larger than the server accepts'],
  FST_REQ_FILE_TOO_LARGE: [413, 'BODY_TOO_LARGE', 'an uploaded file is larger than the server accepts'],
  FST_PARTS_LIMIT: [413, 'BODY_TOO_LARGE', 'the form has more parts than the server accepts'],
  FST_FILES_LIMIT: [413, 'BODY_TOO_LARGE', 'the form has more files than the server accepts'],
  FST_FIELDS_LIMIT: [413, 'BODY_TOO_LARGE', 'the form has more fields than the server accepts'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE', 'no route takes this content type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'BAD_REQUEST', 'the content-length does not match the body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'INVALID_JSON', 'the JSON body is empty'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'INVALID_JSON', 'the body is not valid JSON'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE', 'the body is not multipart/form-data'],
  FST_PROTO_VIOLATION: [400, 'BAD_REQUEST', 'the JSON body sets a forbidden key (__proto__ or constructor)'],
  FST_ERR_CTP_INVALID_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE', 'the content type is not valid'],
};

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | ServeError, request, reply) => {
    if (error instanceof ServeError) return send(reply, error.statusCode, error.code, error.message, error.headers);
    const known = error.code ? KNOWN[error.code] : undefined;
    if (known) return send(reply, known[0], known[1], known[2]);
    if (error.validation) {
      // ajv's words name the field and the rule ('body/inputs/0 must have required property
      // 'datatype''); they quote the schema, never the client's values.
      const field = `${error.validationContext ?? 'request'}${error.validation[0]?.instancePath ?? ''}`;
      return send(reply, 400, 'BAD_REQUEST', `${field} ${error.validation[0]?.message ?? 'is invalid'}`);
    }
    if (error instanceof SyntaxError) return send(reply, 400, 'INVALID_JSON', 'the body is not valid JSON');
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return send(reply, error.statusCode, 'BAD_REQUEST', 'the request was refused');
    }
    request.log.error({ err: error }, 'request failed');
    return send(reply, 500, 'INTERNAL', 'the server failed to answer this request; it has been logged');
  });
  app.setNotFoundHandler((request, reply) => {
    send(reply, 404, 'ROUTE_NOT_FOUND', `no route for ${request.method} on this path; see GET /v2 and the README`);
  });
}

function send(reply: FastifyReply, status: number, code: ServeErrorCode, message: string, headers: Readonly<Record<string, string>> = {}) {
  const body: ErrorBody = { error: message, code };
  return reply.code(status).headers(headers).send(body);
}
