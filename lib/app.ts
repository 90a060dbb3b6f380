/**
 * The HTTP shell every worker shares: request ids, structured logs, one place
 * that maps errors to JSON, JSON 404/405, and request metrics by route pattern.
 */
import { Router, type IRequest, type RouterType } from "itty-router";
import { errorResponse, HttpError } from "./errors";
import { discardBody } from "./http";
import { createLogger, type Logger } from "./log";
import { MetricsBuffer, type MetricsSink } from "./metrics-buffer";
import { vars } from "./vars";

export interface AppRequest extends IRequest {
  log: Logger;
  requestId: string;
}

export interface BaseEnv {
  METRICS?: MetricsSink;
}

export type Handler<E> = (request: AppRequest, env: E, ctx: ExecutionContext) => Response | Promise<Response>;

export interface App<E> {
  /** Runs before routing; throw an HttpError to refuse the request. */
  before(check: (request: AppRequest, env: E) => void | Promise<void>): App<E>;
  get(path: string, handler: Handler<E>): App<E>;
  post(path: string, handler: Handler<E>): App<E>;
  put(path: string, handler: Handler<E>): App<E>;
  delete(path: string, handler: Handler<E>): App<E>;
  fetch(request: Request, env: E, ctx: ExecutionContext): Promise<Response>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function createApp<E extends BaseEnv>(
  service: string,
  sinkOf: (env: E) => MetricsSink | undefined = (env) => env.METRICS,
): App<E> {
  const router: RouterType<AppRequest, [E, ExecutionContext]> = Router();
  const metrics = new MetricsBuffer();
  const patterns: { method: string; regex: RegExp }[] = [];
  const checks: ((request: AppRequest, env: E) => void | Promise<void>)[] = [];

  const add = (method: string) => (path: string, handler: Handler<E>) => {
    (router as unknown as Record<string, (p: string, h: Handler<E>) => void>)[method.toLowerCase()]!(path, handler);
    const route = router.routes[router.routes.length - 1]!;
    patterns.push({ method, regex: route[1] });
    return app;
  };

  const allowed = (pathname: string) => [...new Set(patterns.filter((p) => p.regex.test(pathname)).map((p) => p.method))];

  const app: App<E> = {
    before(check) {
      checks.push(check);
      return app;
    },
    get: add("GET"),
    post: add("POST"),
    put: add("PUT"),
    delete: add("DELETE"),
    async fetch(request, env, ctx) {
      const started = Date.now();
      const v = vars(env);
      const incoming = request.headers.get("x-request-id");
      const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
      const log = createLogger({ service, cell_id: v.AIOS_CELL_ID, request_id: requestId }, v.AIOS_LOG_LEVEL);
      const req = request as AppRequest;
      req.log = log;
      req.requestId = requestId;
      let response: Response;
      try {
        for (const check of checks) await check(req, env);
        const routed = (await router.fetch(req, env, ctx)) as Response | undefined;
        response = routed ?? noRoute(new URL(request.url).pathname, request.method, allowed);
      } catch (err) {
        if (!(err instanceof HttpError) || err.status >= 500) {
          log.error("request failed", { method: request.method, route: req.route, error: describe(err) });
        }
        response = errorResponse(err);
      }
      await discardBody(request);
      response = withHeader(response, "x-request-id", requestId);
      const seconds = (Date.now() - started) / 1000;
      const route = typeof req.route === "string" ? req.route : "unmatched";
      metrics.observe(service, route, response.status, seconds);
      metrics.scheduleFlush(sinkOf(env), (p) => ctx.waitUntil(p));
      log.debug("request", { method: request.method, route, status: response.status, ms: Date.now() - started });
      return response;
    },
  };
  return app;
}

function noRoute(pathname: string, method: string, allowed: (p: string) => string[]): Response {
  const methods = allowed(pathname);
  if (methods.length === 0) return errorResponse(new HttpError(404, `no such endpoint: ${method} ${pathname}`));
  return errorResponse(
    new HttpError(405, `method ${method} is not allowed on ${pathname}; allowed: ${methods.join(", ")}`, {
      allowed: methods,
    }),
    { allow: methods.join(", ") },
  );
}

function withHeader(response: Response, name: string, value: string): Response {
  try {
    response.headers.set(name, value);
    return response;
  } catch {
    // Immutable headers (a response passed through from fetch): copy it.
    const copy = new Response(response.body, response);
    copy.headers.set(name, value);
    return copy;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
