/** DRF's field-error shape: `{"field": ["message"], "non_field_errors": ["message"]}`. */
export type FieldErrors = Record<string, string[]>;

/** An error that is the client's answer: its status and body are sent as they are. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body.detail === 'string' ? body.detail : `HTTP ${statusCode}`);
    this.name = 'HttpError';
  }
}

export const badRequest = (errors: FieldErrors) => new HttpError(400, errors);

export const fieldError = (field: string, message: string) => badRequest({ [field]: [message] });

export const unauthorized = (
  detail = 'Authentication credentials were not provided.',
  extra: Record<string, unknown> = {},
) => new HttpError(401, { detail, ...extra }, { 'www-authenticate': 'Bearer realm="api"' });

export const forbidden = (detail = 'You do not have permission to perform this action.') =>
  new HttpError(403, { detail });

export const notFound = (detail = 'Not found.') => new HttpError(404, { detail });

export const conflict = (detail: string, extra: Record<string, unknown> = {}) =>
  new HttpError(409, { detail, ...extra });

export const throttled = (waitSeconds: number) =>
  new HttpError(
    429,
    {
      detail: `Request was throttled. Expected available in ${waitSeconds} second${waitSeconds === 1 ? '' : 's'}.`,
    },
    { 'retry-after': String(waitSeconds) },
  );
