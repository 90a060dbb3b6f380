/**
 * One error type for everything a handler can refuse. `message` is public and
 * goes to the client; `detail` is for logs only.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly detail?: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export const badRequest = (message: string, extra?: Record<string, unknown>) => new HttpError(400, message, extra);
export const unauthorized = (message = "authentication required") => new HttpError(401, message);
export const notFound = (message = "not found") => new HttpError(404, message);
export const unavailable = (message: string) => new HttpError(503, message);

/** Turns any thrown value into a JSON response; unknown errors never leak their stack. */
export function errorResponse(err: unknown, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json; charset=utf-8");
  if (err instanceof HttpError) {
    if (err.status === 401) h.set("www-authenticate", 'Bearer realm="aios"');
    return new Response(JSON.stringify({ error: err.message, ...err.extra }), {
      status: err.status,
      headers: h,
    });
  }
  return new Response(JSON.stringify({ error: "internal error" }), { status: 500, headers: h });
}
