/**
 * Typed errors with stable codes. The HTTP layer turns them into application/problem+json
 * (RFC 9457); anything else is a 500 whose details stay in the log.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, id: string) {
    super('not_found', 404, `${what} ${id} does not exist`);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string) {
    super(code, 409, message);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'a valid bearer token is required') {
    super('unauthorized', 401, message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'your role does not allow this') {
    super('forbidden', 403, message);
  }
}

export class BadRequestError extends AppError {
  constructor(code: string, message: string, details?: unknown) {
    super(code, 400, message, details);
  }
}

/**
 * A failure of the storage underneath (a database error carries a string `code` such as
 * SQLITE_BUSY or SQLITE_FULL): the caller's whole unit of work must fail and be retried, never be
 * swallowed as if one item were bad.
 */
export function isStorageFailure(err: unknown): boolean {
  return typeof err === 'object' && err !== null && !(err instanceof AppError) && typeof (err as { code?: unknown }).code === 'string';
}
