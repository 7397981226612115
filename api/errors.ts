// The API's error helpers. ApiError and the error shape live in domain/http-error.ts, below inbound/,
// whose HTTP routes throw them too.
import { ApiError } from '../domain/http-error';

export { ApiError };

export const badRequest = (field: string, message: string) =>
  new ApiError(400, `${field}: ${message}`, field);
export const notFound = (what: string) => new ApiError(404, `${what} not found`);
export const conflict = (message: string) => new ApiError(409, message);
