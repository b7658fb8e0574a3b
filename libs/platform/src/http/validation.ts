import { ArgumentMetadata, Param, ParseUUIDPipe, ValidationError, ValidationPipe, ValidationPipeOptions } from '@nestjs/common';
import { buildMessage, ValidateBy, type ValidationOptions } from 'class-validator';
import { FieldError, invalidRequest, ProblemException } from './problem-details';

/** Enough to fix a request; a payload built to fail everywhere does not get a huge answer. */
const MAX_FIELD_ERRORS = 50;

/**
 * Deeper than any DTO needs. class-transformer recurses once per level, so a 16 kB body of
 * nested arrays (about 8,000 levels) would overflow the stack and turn bad input into a 500.
 */
export const MAX_INPUT_DEPTH = 32;

/**
 * Nest's ValidationPipe with a problem+json 400. Nest 12 already refuses an array or a scalar for
 * a DTO with validation rules; this pipe refuses it for any DTO class, so a body DTO without
 * rules cannot silently accept `[]`. Before class-transformer sees the input, it also refuses:
 * - nesting deeper than MAX_INPUT_DEPTH;
 * - properties named after members of Object.prototype, and `prototype`: Nest drops
 *   `__proto__`, `constructor` and `prototype` silently, and class-validator's whitelist takes
 *   `toString`, `valueOf` and the like for declared properties, so forbidNonWhitelisted would let
 *   all of them through;
 * - strings holding U+0000, which PostgreSQL cannot store in text or jsonb: such a value would
 *   fail its statement (a 500) and every audit entry quoting it.
 * Ill-formed strings (a lone UTF-16 surrogate, which JSON's `\ud800` escape can produce) are
 * refused in every body, query and path parameter, with or without a DTO: they have no UTF-8
 * form, so PostgreSQL refuses them in jsonb and a lone surrogate in a register email was a 500.
 */
export class ProblemValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') {
      const illFormed = illFormedStrings(value, metadata.type === 'body' || metadata.type === 'query' ? '' : (metadata.data ?? metadata.type));
      if (illFormed.length > 0) {
        throw fieldsProblem(illFormed.map((path) => ({ field: path, messages: [`${path} must be well-formed Unicode (it holds a lone UTF-16 surrogate)`] })));
      }
    }
    if (this.toValidate(metadata)) {
      if (metadata.type === 'body' && !isAbsentOrObject(value)) {
        throw invalidRequest('The request body must be a JSON object', [{ field: 'body', messages: ['body must be a JSON object'] }]);
      }
      const name = metadata.type === 'body' || metadata.type === 'query' ? metadata.type : (metadata.data ?? metadata.type);
      const shape = inspectShape(value);
      if (shape.tooDeep) {
        throw invalidRequest(`The ${name} is nested too deeply`, [
          { field: name, messages: [`${name} must not be nested more than ${MAX_INPUT_DEPTH} levels deep`] },
        ]);
      }
      const refused: FieldError[] = [
        ...(this.validatorOptions.forbidNonWhitelisted ? shape.reservedKeys : []).map((path) => ({
          field: path,
          messages: [`property ${path} should not exist`],
        })),
        ...shape.nulStrings.map((path) => ({ field: path, messages: [`${path} must not contain the NUL character (U+0000)`] })),
      ];
      if (refused.length > 0) throw fieldsProblem(refused);
    }
    return super.transform(value, metadata);
  }
}

interface Shape {
  readonly tooDeep: boolean;
  /** Dotted paths of properties named after an Object.prototype member, e.g. `toString`, `address.__proto__`. */
  readonly reservedKeys: string[];
  /** Dotted paths of strings, and of property names, holding U+0000. */
  readonly nulStrings: string[];
}

/** Walks plain objects and arrays without recursion, so the walk itself cannot overflow. */
function inspectShape(value: unknown): Shape {
  const shape: Shape = { tooDeep: false, reservedKeys: [], nulStrings: [] };
  const stack: Array<{ node: unknown; path: string; depth: number }> = [{ node: value, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { node, path, depth } = stack.pop()!;
    if (typeof node === 'string') {
      if (node.includes('\u0000') && path) shape.nulStrings.push(path);
      continue;
    }
    if (node === null || typeof node !== 'object' || Buffer.isBuffer(node) || ArrayBuffer.isView(node)) continue;
    if (depth >= MAX_INPUT_DEPTH) return { ...shape, tooDeep: true };
    for (const key of Object.keys(node)) {
      const childPath = path ? `${path}.${key}` : key;
      if (!Array.isArray(node) && isReservedKey(key)) shape.reservedKeys.push(childPath);
      if (key.includes('\u0000')) shape.nulStrings.push(childPath);
      stack.push({ node: (node as Record<string, unknown>)[key], path: childPath, depth: depth + 1 });
    }
  }
  return shape;
}

/**
 * A key that never reaches class-validator as itself. Nest's stripProtoKeys deletes `__proto__`,
 * `constructor` and `prototype` before class-transformer runs; the first two are members of
 * Object.prototype, `prototype` is not, so it needs naming.
 */
function isReservedKey(key: string): boolean {
  return key === 'prototype' || Object.hasOwn(Object.prototype, key);
}

/**
 * Matches a lone surrogate, which is what makes a string ill-formed: with the `u` flag a
 * well-formed pair is one code point and does not match. (String.prototype.isWellFormed, Node
 * 20+, is not in the ES2023 library this project compiles against.)
 */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Dotted paths of ill-formed strings and property names in `value` (`root` names a bare string), walked without recursion. */
export function illFormedStrings(value: unknown, root = ''): string[] {
  const found: string[] = [];
  const stack: Array<{ node: unknown; path: string; depth: number }> = [{ node: value, path: root, depth: 0 }];
  while (stack.length > 0) {
    const { node, path, depth } = stack.pop()!;
    if (typeof node === 'string') {
      if (LONE_SURROGATE.test(node)) found.push(path || '(value)');
      continue;
    }
    // Deeper input is refused by its own check; this walk only needs to end.
    if (node === null || typeof node !== 'object' || Buffer.isBuffer(node) || ArrayBuffer.isView(node) || depth > MAX_INPUT_DEPTH) continue;
    for (const key of Object.keys(node)) {
      const childPath = path ? `${path}.${key}` : key;
      if (LONE_SURROGATE.test(key)) found.push(childPath);
      stack.push({ node: (node as Record<string, unknown>)[key], path: childPath, depth: depth + 1 });
    }
  }
  // A path is shown in the answer: its own lone surrogates become U+FFFD.
  return found.reverse().map((path) => path.replace(/\p{Surrogate}/gu, '\uFFFD'));
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
  return fieldsProblem(fieldErrors(errors));
}

function fieldsProblem(fields: readonly FieldError[]): ProblemException {
  const shown = fields.slice(0, MAX_FIELD_ERRORS);
  const names = shown.map((field) => field.field).join(', ');
  const more = fields.length > shown.length ? ` (and ${fields.length - shown.length} more)` : '';
  const detail = fields.length === 1 ? `The request has 1 invalid field: ${names}` : `The request has ${fields.length} invalid fields: ${names}${more}`;
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
 * MaxLength as PostgreSQL's varchar(n) counts: code points of the value as it will be stored.
 * class-validator's MaxLength does not count U+FE0E and U+FE0F, so a value it passes can
 * overflow the column (a 500); and a value normalized before it is stored must fit once
 * normalized (lowercasing turns 'İ' into two code points).
 */
export function MaxStoredLength(max: number, normalize: (value: string) => string = (value) => value, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxStoredLength',
      constraints: [max],
      validator: {
        validate: (value: unknown) => typeof value === 'string' && [...normalize(value)].length <= max,
        defaultMessage: buildMessage((each) => `${each}$property must be shorter than or equal to $constraint1 characters`, options),
      },
    },
    options,
  );
}

/**
 * A ParseUUIDPipe whose failure names the parameter. Any RFC 9562 version is accepted, as ids
 * may be v4 or v7.
 */
export function parseUuidPipe(parameter: string): ParseUUIDPipe {
  return new ParseUUIDPipe({
    version: 'all',
    exceptionFactory: () => invalidRequest(`Parameter "${parameter}" is not a UUID`, [{ field: parameter, messages: [`${parameter} must be a UUID`] }]),
  });
}

/**
 * `@UuidParam('id') id: string` in place of `@Param('id', ParseUUIDPipe) id: string`; the id is
 * handed on in lower case, the form the database returns and tokens carry.
 */
export function UuidParam(parameter: string): ParameterDecorator {
  return Param(parameter, parseUuidPipe(parameter), { transform: (id: string) => id.toLowerCase() });
}

function isAbsentOrObject(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value));
}
