// One error type with an HTTP status; the body is the API's one error shape.
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

export const badRequest = (field: string, message: string) =>
  new ApiError(400, `${field}: ${message}`, field);
export const notFound = (what: string) => new ApiError(404, `${what} not found`);
export const conflict = (message: string) => new ApiError(409, message);
