import autocannon from 'autocannon';

export interface Measurement {
  requests_per_second: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  non_2xx: number;
}

/** Drives one URL at a fixed concurrency for `seconds` (after a short warm-up) and reads the numbers. */
export async function measure(
  url: string,
  connections: number,
  seconds: number,
  headers: Record<string, string> = {},
): Promise<Measurement> {
  await autocannon({ url, connections, headers, duration: Math.min(2, seconds) });
  const result = await autocannon({ url, connections, headers, duration: seconds });
  return {
    requests_per_second: Math.round(result.requests.average),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non_2xx: result.non2xx,
  };
}
