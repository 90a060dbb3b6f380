/**
 * The HTTP shell every worker shares: request ids, structured logs, one place
 * that maps errors to JSON, JSON 404/405, and request metrics by route pattern.
 */
import { Router, type IRequest, type RouterType } from "itty-router";
import { isSigned, requireToken } from "./auth";
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
  /**
   * The cell that signed the request, on routes whose access is `peer`, `admission` or (when signed)
   * `peer-or-token`; unset where the handler verifies (Guards.peerVerifiedByHandler).
   */
  peer: PeerCall | undefined;
  /** The signing cell on a route that only signed requests reach (`peer`, `admission`). */
  get signed(): PeerCall {
    if (!this.peer) throw new Error(`route ${this.route ?? "?"} reads a signature its guard did not verify`);
    return this.peer;
  }
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

/**
 * Who may call a route, declared in the route table and enforced in one place (`fetch` below):
 * - `public`: anyone; figures about the network, never content.
 * - `token`: the API token (`Authorization: Bearer <AIOS_API_TOKEN>`).
 * - `peer`: a request signed by an admitted cell; its id and body reach the handler as `rc.peer`.
 * - `peer-or-token`: either of the two (a signed request is checked as a peer's, never as a token's).
 * - `admission`: a signed first contact from a cell whose key is not pinned yet, admitted only with
 *   proof of the cluster secret; like `peer`, the handler gets the cell and its body as `rc.peer`.
 * - `local`: the bridge's callers: loopback host names and no browser origin but VS Code's.
 * Calls inside one stack are not routes: they are typed RPC methods on the workers' entrypoints,
 * which no socket reaches.
 */
export type Access = "public" | "token" | "peer" | "peer-or-token" | "admission" | "local";

/** A request verified as another cell's: who signed it, and the body it signed. */
export interface PeerCall {
  cell: string;
  body: string;
}

/** How one worker checks its callers; a route whose access needs a check the worker lacks is refused. */
export interface Guards<E> {
  /** The API token to compare with; undefined when none is configured. */
  token?: (env: E) => string | undefined;
  /** Verifies a signed request from another cell; throws an HttpError when it is refused. */
  peer?: (request: Request, env: E) => Promise<PeerCall>;
  /**
   * Instead of `peer`, for a worker whose handlers verify in the same call that serves the request:
   * the relay's pinned keys and seen nonces live in the Durable Object that serves its routes, and
   * each call to an object is billed, so one call there verifies and then handles. This is the cheap
   * part the worker checks alone (it throws an HttpError to refuse). `rc.peer` stays unset, so no
   * handler can read a caller nobody verified; each such handler hands the request to a method that
   * verifies it before it acts.
   */
  peerVerifiedByHandler?: (request: Request, env: E) => void;
  /** Admits a signed first contact with proof of the cluster secret; throws an HttpError when it is refused. */
  admission?: (request: Request, env: E) => Promise<PeerCall>;
  /** Refuses (throws) a request that is not from this machine's editor. */
  local?: (request: Request) => void;
}

export type Handler<E> = (request: AppRequest, env: E, ctx: ExecutionContext, rc: RequestContext) => Response | Promise<Response>;

type Method = "GET" | "POST" | "PUT" | "DELETE";

export interface Route<E> {
  method: Method;
  path: string;
  access: Access;
  handler: Handler<E>;
}

export interface App<E> {
  /** Runs before routing, for every request (bookkeeping such as counting a boot); not a guard. */
  before(hook: (request: AppRequest, env: E) => void | Promise<void>): App<E>;
  get(path: string, access: Access, handler: Handler<E>): App<E>;
  post(path: string, access: Access, handler: Handler<E>): App<E>;
  put(path: string, access: Access, handler: Handler<E>): App<E>;
  delete(path: string, access: Access, handler: Handler<E>): App<E>;
  /** Every route of the table, in the order written. */
  routes(): readonly Route<E>[];
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

/** The path of an absolute URL without a query or a trailing slash, or undefined when it is not a plain one. */
function pathOf(url: string): string | undefined {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return undefined;
  const end = url.indexOf("?", start);
  const path = end < 0 ? url.slice(start) : url.slice(start, end);
  if (path.includes("#") || path.includes("%")) return undefined;
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

const isPattern = (path: string) => /[:*]/.test(path);

export interface AppOptions<E> {
  /** Where request metrics go [env.METRICS]. */
  sink?: (env: E) => MetricsSink | undefined;
  guards?: Guards<E>;
}

/** Checks the caller against the route's access; returns the verified peer for peer routes. */
async function authorize<E>(access: Access, guards: Guards<E>, request: Request, env: E): Promise<PeerCall | undefined> {
  switch (access) {
    case "public":
      return undefined;
    case "local":
      if (!guards.local) throw new HttpError(403, "this endpoint is not served here");
      guards.local(request);
      return undefined;
    case "token":
      requireToken(request, guards.token?.(env));
      return undefined;
    case "peer-or-token":
      if (!isSigned(request)) {
        requireToken(request, guards.token?.(env));
        return undefined;
      }
      return verifyPeer(guards, request, env);
    case "admission":
      if (!isSigned(request)) throw new HttpError(401, "a first contact must be signed and prove the cluster secret");
      if (!guards.admission) throw new HttpError(403, "this endpoint is not served here");
      return guards.admission(request, env);
    case "peer":
      if (!isSigned(request)) throw new HttpError(401, "this endpoint answers only requests signed by an admitted cell");
      return verifyPeer(guards, request, env);
  }
}

async function verifyPeer<E>(guards: Guards<E>, request: Request, env: E): Promise<PeerCall | undefined> {
  if (guards.peer) return guards.peer(request, env);
  if (guards.peerVerifiedByHandler) {
    guards.peerVerifiedByHandler(request, env);
    return undefined;
  }
  throw new HttpError(503, "this worker cannot verify other cells (no identity binding)");
}

/**
 * One route table per worker. A route without parameters is found by its exact path (no router
 * work: most requests take such routes), any other by itty-router; an exact path wins over a
 * pattern that also matches it, so no route depends on the order it was written in. Two routes
 * for one method and path are a mistake, refused when the table is built.
 */
export function createApp<E extends BaseEnv>(service: string, options: AppOptions<E> = {}): App<E> {
  const sinkOf = options.sink ?? ((env: E) => env.METRICS);
  const guards = options.guards ?? {};
  const router: RouterType<AppRequest, []> = Router();
  const metrics = new MetricsBuffer(service);
  const table: Route<E>[] = [];
  const exact = new Map<string, Route<E>>();
  const patterns: { route: Route<E>; regex: RegExp }[] = [];
  const hooks: ((request: AppRequest, env: E) => void | Promise<void>)[] = [];

  const add = (method: Method) => (path: string, access: Access, handler: Handler<E>) => {
    const route: Route<E> = { method, path, access, handler };
    if (table.some((r) => r.method === method && r.path === path))
      throw new Error(`${service}: ${method} ${path} is routed twice`);
    table.push(route);
    if (!isPattern(path)) exact.set(`${method} ${path}`, route);
    else {
      (router as unknown as Record<string, (p: string, h: () => Route<E>) => void>)[method.toLowerCase()]!(path, () => route);
      patterns.push({ route, regex: router.routes[router.routes.length - 1]![1] });
    }
    return app;
  };

  /** The route that takes the request (its params set on the request when it has a pattern), if any. */
  const match = async (req: AppRequest): Promise<Route<E> | undefined> => {
    const path = pathOf(req.url);
    const found = path === undefined ? undefined : exact.get(`${req.method} ${path}`);
    if (found) return found;
    return (await router.fetch(req)) as Route<E> | undefined;
  };

  const allowed = (pathname: string) => {
    const trimmed = pathname.length > 1 && pathname.endsWith("/") ? pathname.slice(0, -1) : pathname;
    const methods = table.filter((r) => (isPattern(r.path) ? false : r.path === trimmed)).map((r) => r.method);
    for (const p of patterns) if (p.regex.test(pathname)) methods.push(p.route.method);
    return [...new Set(methods)];
  };

  const app: App<E> = {
    before(hook) {
      hooks.push(hook);
      return app;
    },
    get: add("GET"),
    post: add("POST"),
    put: add("PUT"),
    delete: add("DELETE"),
    routes: () => table,
    async fetch(request, env, ctx) {
      const started = Date.now();
      const v = vars(env);
      const incoming = request.headers.get("x-request-id");
      const chosen = incoming !== null && REQUEST_ID.test(incoming) ? incoming : undefined;
      const rc = new RequestContext(chosen, service, v.AIOS_CELL_ID, v.AIOS_LOG_LEVEL);
      const req = request as AppRequest;
      let response: Response;
      try {
        for (const hook of hooks) await hook(req, env);
        const route = await match(req);
        if (!route) response = noRoute(new URL(request.url).pathname, request.method, allowed);
        else {
          rc.route = route.path;
          rc.peer = await authorize(route.access, guards, request, env);
          response = await route.handler(req, env, ctx, rc);
        }
      } catch (err) {
        if (!(err instanceof HttpError) || err.status >= 500) {
          rc.log.error("request failed", { method: request.method, route: rc.route, error: describe(err) });
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
      const route = rc.route ?? "unmatched";
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
