/**
 * What a client is told when a request fails: an HTTP status, a stable `code` to branch on, and a
 * message written by the server. A message never carries a stack trace, a file path or another
 * library's words, and client input appears in it only through `safeName` (short, plain ASCII).
 */

/** Stable codes in every error answer; clients branch on these, not on messages. */
export type ServeErrorCode =
  | 'BAD_REQUEST'
  | 'INVALID_JSON'
  | 'INVALID_TENSOR'
  | 'INVALID_IMAGE'
  | 'IMAGE_TOO_LARGE'
  | 'BODY_TOO_LARGE'
  | 'TOO_MANY_IMAGES'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'MODEL_NOT_FOUND'
  | 'ROUTE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'MODEL_NOT_READY'
  | 'QUEUE_FULL'
  | 'SHUTTING_DOWN'
  | 'DEADLINE_EXCEEDED'
  | 'REQUEST_TIMEOUT'
  | 'INTERNAL';

export class ServeError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ServeErrorCode,
    message: string,
    /** Extra response headers, e.g. Retry-After on a 503. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ServeError';
  }
}

/** The JSON body of every error: KServe v2 clients read `error`, ours can also read `code`. */
export interface ErrorBody {
  readonly error: string;
  readonly code: ServeErrorCode;
}

const MAX_NAME_LENGTH = 64;

/**
 * A client-chosen name (an x-filename header, a multipart file name) made safe to put in an
 * answer or a log line: characters outside [A-Za-z0-9._-] become '_', and it is cut to 64
 * characters. '/etc/passwd<script>' comes back as '_etc_passwd_script_'.
 */
export function safeName(raw: unknown, fallback: string): string {
  if (typeof raw !== 'string' || raw.length === 0) return fallback;
  const cleaned = raw.slice(0, MAX_NAME_LENGTH * 4).replace(/[^A-Za-z0-9._-]/g, '_');
  return cleaned.length > MAX_NAME_LENGTH ? `${cleaned.slice(0, MAX_NAME_LENGTH - 3)}...` : cleaned;
}
