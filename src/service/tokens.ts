/** Injection tokens. Code runs through tsx/esbuild (no decorator metadata), so every constructor parameter names its token. */
export const SERVICE_CONTEXT = Symbol('hourbridge.service-context');
export const API_TOKENS = Symbol('hourbridge.api-tokens');
export const METRICS = Symbol('hourbridge.metrics');
