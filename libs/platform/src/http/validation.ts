import { ArgumentMetadata, Param, ParseUUIDPipe, ValidationError, ValidationPipe, ValidationPipeOptions } from '@nestjs/common';
import { FieldError, invalidRequest, ProblemException } from './problem-details';

/** Enough to fix a request; a payload built to fail everywhere does not get a huge answer. */
const MAX_FIELD_ERRORS = 50;

/**
 * Nest's ValidationPipe with a problem+json 400. Nest 12 already refuses an array or a scalar for
 * a DTO with validation rules; this pipe refuses it for any DTO class, so a body DTO without
 * rules cannot silently accept `[]`.
 */
export class ProblemValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && this.toValidate(metadata) && !isAbsentOrObject(value)) {
      throw invalidRequest('The request body must be a JSON object', [{ field: 'body', messages: ['body must be a JSON object'] }]);
    }
    return super.transform(value, metadata);
  }
}

/**
 * The global pipe: unknown properties are refused rather than dropped silently, DTOs are
 * instances of their class, and a failure is a 400 problem listing each field:
 * `errors: [{ field: 'email', messages: ['email must be an email'] }]`.
 */
export function createValidationPipe(options: ValidationPipeOptions = {}): ValidationPipe {
  return new ProblemValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    // Submitted values (passwords among them) never go back into the response.
    validationError: { target: false, value: false },
    exceptionFactory: validationProblem,
    ...options,
  });
}

export function validationProblem(errors: ValidationError[]): ProblemException {
  const fields = fieldErrors(errors);
  const shown = fields.slice(0, MAX_FIELD_ERRORS);
  const names = shown.map((field) => field.field).join(', ');
  const more = fields.length > shown.length ? ` (and ${fields.length - shown.length} more)` : '';
  const detail =
    fields.length === 1 ? `The request has 1 invalid field: ${names}` : `The request has ${fields.length} invalid fields: ${names}${more}`;
  return invalidRequest(detail, shown);
}

/** One entry per invalid field, nested fields as dotted paths (`address.city`, `items.0.name`). */
export function fieldErrors(errors: readonly ValidationError[], parentPath = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parentPath && error.property ? `${parentPath}.${error.property}` : error.property || parentPath;
    const messages = Object.values(error.constraints ?? {});
    const own: FieldError[] = messages.length > 0 ? [{ field: field || '(body)', messages }] : [];
    return [...own, ...fieldErrors(error.children ?? [], field)];
  });
}

/**
 * A ParseUUIDPipe whose failure names the parameter. Any RFC 9562 version is accepted, as ids
 * may be v4 or v7.
 */
export function parseUuidPipe(parameter: string): ParseUUIDPipe {
  return new ParseUUIDPipe({
    version: 'all',
    exceptionFactory: () =>
      invalidRequest(`Parameter "${parameter}" is not a UUID`, [{ field: parameter, messages: [`${parameter} must be a UUID`] }]),
  });
}

/** `@UuidParam('id') id: string` in place of `@Param('id', ParseUUIDPipe) id: string`. */
export function UuidParam(parameter: string): ParameterDecorator {
  return Param(parameter, parseUuidPipe(parameter));
}

function isAbsentOrObject(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value));
}
