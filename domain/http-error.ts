// The one error shape of every HTTP answer (statusCode, error, message and the
// field at fault), as a JSON schema for the OpenAPI document and as the error
// a handler throws to produce it. Pure data with no I/O, kept at the bottom of
// the layers because two faces serve HTTP: api/ and inbound/ (the bounce and
// LINE webhook routes), and inbound/ sits below api/.
import { Type } from '@sinclair/typebox';

export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String()),
  },
  { $id: 'ErrorBody', description: 'Every error has this shape.' },
);

/** One error type with an HTTP status; the body is the one error shape (ErrorBody). */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  body() {
    return {
      statusCode: this.statusCode,
      error: STATUS_NAMES[this.statusCode] ?? 'Error',
      message: this.message,
      ...(this.field ? { field: this.field } : {}),
    };
  }
}

const STATUS_NAMES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};
