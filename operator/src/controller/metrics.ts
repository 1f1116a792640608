// Controller metrics, the same for every controller, labelled by its name.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class ControllerMetrics {
  readonly reconciles: Counter<'controller' | 'result'>;
  readonly errors: Counter<'controller'>;
  readonly duration: Histogram<'controller'>;
  private readonly queues = new Map<string, { readonly length: number }>();

  constructor(registry: Registry) {
    this.reconciles = new Counter({
      name: 'lattice_reconcile_total',
      // success, error or requeue_after, as controller-runtime counts them.
      help: 'Reconciles by controller and result',
      labelNames: ['controller', 'result'],
      registers: [registry],
    });
    this.errors = new Counter({
      name: 'lattice_reconcile_errors_total',
      help: 'Reconciles that failed and were retried with backoff',
      labelNames: ['controller'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'lattice_reconcile_duration_seconds',
      help: 'Time one reconcile took',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    const queues = this.queues;
    new Gauge({
      name: 'lattice_workqueue_depth',
      help: 'Keys waiting in a controller work queue',
      labelNames: ['name'],
      registers: [registry],
      // Read when scraped, so the depth is never stale and the queue needs no metrics hook.
      collect() {
        for (const [name, queue] of queues) this.set({ name }, queue.length);
      },
    });
  }

  trackQueue(name: string, queue: { readonly length: number }): void {
    this.queues.set(name, queue);
  }
}
