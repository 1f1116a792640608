// Development mode: the renderer in an ordinary browser, with the same DesktopApi the Electron
// preload exposes, served over HTTP on loopback and backed by the same DesktopCore.
//
//   POST /api/call/<method>  body {"args": [...]}  -> the method's result (zod on the way in and out)
//   GET  /api/events                              -> server-sent events, one AppEvent per message
//
// Every /api request must carry the per-run secret (Authorization: Bearer …), which the server
// hands out only in the URL it prints, and a loopback Host header (no DNS rebinding).
import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { METHODS, METHOD_NAMES, type AppEvent, type MethodName } from '../contract.js';
import type { DesktopCore } from '../main/core.js';

const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\]):\d+$/;

export function devServer(options: { core: DesktopCore; secret: string; rendererDir: string; log: Logger }): express.Express {
  const { core, secret, log } = options;
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    if (!LOOPBACK_HOST.test(req.headers.host ?? '')) return void res.status(421).json({ error: 'this server answers on loopback only' });
    res.setHeader('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });

  const expected = Buffer.from(`Bearer ${secret}`);
  const authorized = (req: Request, res: Response, next: NextFunction) => {
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return void res.status(401).json({ error: 'missing or wrong secret: open the URL the dev server printed' });
    next();
  };

  app.post('/api/call/:method', authorized, express.json({ limit: '64kb' }), async (req, res) => {
    const method = req.params.method as MethodName;
    if (!METHOD_NAMES.includes(method)) return void res.status(404).json({ error: `no method ${req.params.method}` });
    const args = METHODS[method].input.safeParse((req.body as { args?: unknown } | undefined)?.args ?? []);
    if (!args.success) return void res.status(400).json({ error: `invalid arguments to ${method}: ${args.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
    try {
      const call = core[method] as (...a: unknown[]) => Promise<unknown>;
      res.json(METHODS[method].output.parse(await call.apply(core, args.data)));
    } catch (err) {
      log.error({ err, method }, 'call failed');
      res.status(500).json({ error: (err as Error).message });
    }
  });

  app.get('/api/events', authorized, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    const send = (event: AppEvent) => res.write(`data: ${JSON.stringify(event)}\n\n`);
    const unsubscribe = core.subscribe(send);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
  });

  app.use(express.static(options.rendererDir, { index: 'index.html' }));
  return app;
}
