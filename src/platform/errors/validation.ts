import type { FastifySchemaValidationError } from 'fastify';
import type { FieldErrors } from './http-errors.js';

const TYPE_MESSAGES: Record<string, string> = {
  string: 'Not a valid string.',
  integer: 'A valid integer is required.',
  number: 'A valid number is required.',
  boolean: 'Must be a valid boolean.',
  object: 'Expected a dictionary of items.',
  array: 'Expected a list of items.',
  null: 'This field may not be null.',
};

const FORMAT_MESSAGES: Record<string, string> = {
  email: 'Enter a valid email address.',
  uuid: 'Must be a valid UUID.',
  'date-time': 'Datetime has wrong format. Use ISO 8601 (2025-01-31T12:00:00Z).',
  date: 'Date has wrong format. Use YYYY-MM-DD.',
  uri: 'Enter a valid URL.',
};

function message(error: FastifySchemaValidationError): string {
  const p = error.params;
  const custom = (error as { parentSchema?: Record<string, unknown> }).parentSchema?.['x-error'];
  if (typeof custom === 'string' && (error.keyword === 'pattern' || error.keyword === 'format'))
    return custom;
  const data = (error as { data?: unknown }).data;
  if (error.keyword === 'type' && data === null) return 'This field may not be null.';
  switch (error.keyword) {
    case 'required':
      return 'This field is required.';
    case 'type':
      return TYPE_MESSAGES[String(p.type).split(',')[0]!] ?? 'Invalid type.';
    case 'maxLength':
      return `Ensure this field has no more than ${String(p.limit)} characters.`;
    case 'minLength':
      return p.limit === 1
        ? 'This field may not be blank.'
        : `Ensure this field has at least ${String(p.limit)} characters.`;
    case 'format':
      return FORMAT_MESSAGES[String(p.format)] ?? `Enter a valid ${String(p.format)}.`;
    case 'minimum':
      return `Ensure this value is greater than or equal to ${String(p.limit)}.`;
    case 'maximum':
      return `Ensure this value is less than or equal to ${String(p.limit)}.`;
    case 'exclusiveMinimum':
      return `Ensure this value is greater than ${String(p.limit)}.`;
    case 'pattern':
      return 'Enter a valid value.';
    case 'enum':
    case 'const':
      return 'This is not a valid choice.';
    case 'maxItems':
      return `Ensure this field has no more than ${String(p.limit)} elements.`;
    case 'minItems':
      return `Ensure this field has at least ${String(p.limit)} elements.`;
    case 'maxProperties':
      return `Ensure this object has no more than ${String(p.limit)} keys.`;
    case 'additionalProperties':
      return 'This field is not allowed.';
    default:
      return error.message ?? 'Invalid value.';
  }
}

/** DRF names the type it got as Python would. */
function pythonTypeName(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  if (value === null) return 'NoneType';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return typeof value;
}

/** The field an ajv error is about: `/billing_address/city` → `billing_address.city`. */
function field(error: FastifySchemaValidationError): string | undefined {
  const p = error.params;
  const path = error.instancePath.replace(/^\//, '').split('/').filter(Boolean);
  if (error.keyword === 'required') path.push(String(p.missingProperty));
  if (error.keyword === 'additionalProperties') path.push(String(p.additionalProperty));
  return path.length > 0 ? path.join('.') : undefined;
}

/** ajv's errors (all of them: `allErrors` is on) in DRF's shape, one message per field. */
export function validationErrorsToFields(errors: FastifySchemaValidationError[]): FieldErrors {
  const out: FieldErrors = {};
  for (const error of errors) {
    // anyOf / oneOf repeat their branches' errors; the branch errors say more.
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf' || error.keyword === 'if') continue;
    const name = field(error);
    const text =
      name === undefined && error.keyword === 'type'
        ? `Invalid data. Expected a dictionary, but got ${pythonTypeName((error as { data?: unknown }).data)}.`
        : message(error);
    const key = name ?? 'non_field_errors';
    const list = (out[key] ??= []);
    if (list.length === 0) list.push(text);
  }
  if (Object.keys(out).length === 0) out.non_field_errors = ['Invalid data.'];
  return out;
}
