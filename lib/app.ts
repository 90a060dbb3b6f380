/**
 * The HTTP shell every worker shares: request ids, structured logs, one place
 * that maps errors to JSON, JSON 404/405, and request metrics by route pattern.
 */
import { Router, type IRequest, type RouterType } from "itty-router";
import { errorResponse, HttpError } from "./errors";
import { discardBody } from "./http";
import { createLogger, type Logger, type LogLevel } from "./log";
import { MetricsBuffer, type MetricsSink } from "./metrics-buffer";
import { vars } from "./vars";

export type AppRequest = IRequest;

/**
 * What the shell knows about a request besides the Request itself: its id and its logger (made on
 * first use; most requests never log a line). Handlers get it as their fourth argument; it is never
 * set on the Request, where every added property costs more than a small route does.
 */
export class RequestContext {
  private logger: Logger | undefined;
  private id: string | undefined;
  /** The pattern of the route taken, once known. */
  route: string | undefined;
  constructor(
    /** The id the caller chose (a valid `x-request-id`), if any. */
    readonly chosenId: string | undefined,
    private readonly service: string,
    private readonly cellId: string,
    private readonly level: LogLevel,
  ) {}
  /** The caller's id, or one made on first use. */
  get requestId(): string {
    return (this.id ??= this.chosenId ?? newRequestId());
  }
  get log(): Logger {
    return (this.logger ??= createLogger(
      { service: this.service, cell_id: this.cellId, request_id: this.requestId },
      this.level,
    ));
  }
}

export interface BaseEnv {
  METRICS?: MetricsSink;
}

export type Handler<E> = (request: AppRequest, env: E, ctx: ExecutionContext, rc: RequestContext) => Response | Promise<Response>;

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

/**
 * A fresh request id: a random prefix drawn once per isolate, then a counter. Unique across
 * isolates and restarts like a UUID for what ids are for (finding one request's log lines), at a
 * fraction of the cost: crypto.randomUUID() measured about 8 us, a tenth of a whole small request.
 */
let idPrefix: string | undefined;
let idCount = 0;
function newRequestId(): string {
  idPrefix ??= crypto.randomUUID().replace(/-/g, "").slice(0, 16);
  return `${idPrefix}-${(++idCount).toString(36)}`;
}

/** The path of an absolute URL without a query, or undefined when it is not a plain one. */
function pathOf(url: string): string | undefined {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return undefined;
  const end = url.indexOf("?", start);
  const path = end < 0 ? url.slice(start) : url.slice(start, end);
  return path.includes("#") ? undefined : path;
}

export function createApp<E extends BaseEnv>(
  service: string,
  sinkOf: (env: E) => MetricsSink | undefined = (env) => env.METRICS,
): App<E> {
  const router: RouterType<AppRequest, [E, ExecutionContext, RequestContext]> = Router();
  const metrics = new MetricsBuffer(service);
  const patterns: { method: string; regex: RegExp }[] = [];
  const checks: ((request: AppRequest, env: E) => void | Promise<void>)[] = [];

  // Routes without parameters are also found by exact path, without the router's URL parsing and
  // regular expressions: most requests (health checks, state reads) take such routes. The first
  // route registered for a method and path wins, as in the router. Their requests get no `params`
  // (they have none): a property added to a Request costs a small request several per cent.
  const exact = new Map<string, Handler<E>>();

  const add = (method: string) => (path: string, handler: Handler<E>) => {
    const shadowed = patterns.some((p) => p.method === method && p.regex.test(path));
    (router as unknown as Record<string, (p: string, h: Handler<E>) => void>)[method.toLowerCase()]!(path, handler);
    const route = router.routes[router.routes.length - 1]!;
    patterns.push({ method, regex: route[1] });
    if (!shadowed && !/[:*]/.test(path)) exact.set(`${method} ${path}`, handler);
    return app;
  };

  /** The route's response (undefined when no route matches) and its pattern. */
  const dispatch = async (req: AppRequest, env: E, ctx: ExecutionContext, rc: RequestContext): Promise<Response | undefined> => {
    const path = pathOf(req.url);
    const handler = path === undefined ? undefined : exact.get(`${req.method} ${path}`);
    if (!handler || path === undefined) return (await router.fetch(req, env, ctx, rc)) as Response | undefined;
    rc.route = path;
    return handler(req, env, ctx, rc);
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
      const chosen = incoming !== null && REQUEST_ID.test(incoming) ? incoming : undefined;
      const rc = new RequestContext(chosen, service, v.AIOS_CELL_ID, v.AIOS_LOG_LEVEL);
      const req = request as AppRequest;
      let response: Response;
      try {
        for (const check of checks) await check(req, env);
        const routed = await dispatch(req, env, ctx, rc);
        response = routed ?? noRoute(new URL(request.url).pathname, request.method, allowed);
      } catch (err) {
        if (!(err instanceof HttpError) || err.status >= 500) {
          rc.log.error("request failed", { method: request.method, route: rc.route ?? req.route, error: describe(err) });
        }
        response = errorResponse(err);
      }
      if (request.body !== null && !request.bodyUsed) await discardBody(request);
      // The id goes back whenever there is something to find with it: the caller chose it, the answer is
      // an error, or every request is logged (debug). Otherwise it is never made: a header costs a
      // small request about a tenth of its time in workerd.
      if (chosen !== undefined || response.status >= 400 || v.AIOS_LOG_LEVEL === "debug") {
        response = withHeader(response, "x-request-id", rc.requestId);
      }
      const seconds = (Date.now() - started) / 1000;
      const route = rc.route ?? (typeof req.route === "string" ? req.route : "unmatched");
      metrics.observe(route, response.status, seconds);
      metrics.scheduleFlush(sinkOf(env), ctx);
      if (v.AIOS_LOG_LEVEL === "debug") {
        rc.log.debug("request", { method: request.method, route, status: response.status, ms: Date.now() - started });
      }
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
