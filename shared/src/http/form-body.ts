import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

/**
 * The fields of an urlencoded form post. Anything else (JSON, multipart, text) is refused with
 * 415 before a field is read: HTML forms can only send this type, and refusing the others means a
 * cross-site script cannot reach these routes with a "simple" request of another type either.
 */
export function formFields(request: FastifyRequest): Readonly<Record<string, unknown>> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new AppError('unsupported_media_type', 'send this form as application/x-www-form-urlencoded');
  }
  const body = request.body;
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
}

/** One text field of a form or query: undefined when absent, repeated or not text. */
export function textField(fields: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = fields[name];
  return typeof value === 'string' ? value : undefined;
}
