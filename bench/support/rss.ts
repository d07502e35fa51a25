/**
 * Peak resident memory of this process: the kernel's high-water mark (`maxRSS`, which also
 * sees spikes between samples) and a sampled peak per phase, so a report can say which phase
 * used the memory.
 */
export class RssSampler {
  private peak = 0;
  private timer: NodeJS.Timeout | undefined;

  start(intervalMs = 50): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    return this;
  }

  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
  }

  /** Peak sampled since start (or the last reset), in MB. */
  peakMb(): number {
    this.sample();
    return toMb(this.peak);
  }

  reset(): void {
    this.peak = 0;
    this.sample();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Whole-process peak RSS so far (kernel high-water mark), in MB. */
export function processPeakRssMb(): number {
  return toMb(Math.max(process.resourceUsage().maxRSS * 1024, process.memoryUsage.rss()));
}

function toMb(bytes: number): number {
  return Math.round(bytes / 1024 / 1024);
}
