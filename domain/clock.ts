/** Time is injected: workflows pass Temporal's deterministic clock, I/O code the system clock, tests a fixed one. */
export interface Clock {
  nowMs(): number;
}

export class FixedClock implements Clock {
  constructor(private current: number) {}
  nowMs(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
