import type { AppError, ErrorDetail } from './app-error.js';

/**
 * Collects every rule a request breaks so one validation error names all bad fields at once,
 * instead of making the client fix them one round-trip at a time. Each domain subclasses it with
 * its own validation error (code and message); rules are `checkX(violations, …)` functions.
 */
export class ViolationCollector {
  private readonly found: ErrorDetail[] = [];

  constructor(private readonly toError: (details: ErrorDetail[]) => AppError) {}

  add(field: string, message: string): void {
    this.found.push({ field, message });
  }

  get isEmpty(): boolean {
    return this.found.length === 0;
  }

  /** What was collected so far (e.g. for a zod refinement that reuses a domain rule). */
  get details(): readonly ErrorDetail[] {
    return this.found;
  }

  throwIfAny(): void {
    if (!this.isEmpty) throw this.toError([...this.found]);
  }
}
