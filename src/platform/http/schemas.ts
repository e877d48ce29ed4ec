import { Type } from 'typebox';

/** `{"detail": "…"}`, with `code` where DRF gives one (e.g. `token_not_valid`). */
export const Detail = Type.Object({ detail: Type.String(), code: Type.Optional(Type.String()) });

/** DRF validation errors; free-form so that every field name passes through the serializer. */
export const FieldErrorsBody = Type.Object(
  {},
  {
    additionalProperties: true,
    description:
      'Validation errors: `{"field": ["message", …], "non_field_errors": […]}`, every bad field at once; ' +
      'or `{"detail": "JSON parse error - …"}` for a malformed body.',
  },
);

const ERROR_RESPONSES = {
  400: FieldErrorsBody,
  401: { ...Detail, description: 'Not signed in, or the token is not valid.' },
  403: { ...Detail, description: 'Signed in, but not allowed.' },
  404: { ...Detail, description: 'No such object, or not one the caller may see.' },
  409: { ...Detail, description: 'The request conflicts with the current state.' },
  413: { ...Detail, description: 'The body is larger than this route takes.' },
  422: { ...Detail, description: 'This Idempotency-Key was used with a different request.' },
  429: { ...Detail, description: 'Throttled; see `Retry-After`.' },
  502: {
    ...Detail,
    description: 'A remote service (the payment gateway) refused or failed; nothing was changed.',
  },
} as const;

/** The documented error responses of a route, for its `response` schema. */
export function errors<C extends keyof typeof ERROR_RESPONSES>(
  ...codes: C[]
): Pick<typeof ERROR_RESPONSES, C> {
  return Object.fromEntries(codes.map((code) => [code, ERROR_RESPONSES[code]])) as Pick<
    typeof ERROR_RESPONSES,
    C
  >;
}

export const DetailMessage = Type.Object({ detail: Type.String() });
