/** The operator surface: HTTP API, Prometheus metrics, live stream and dashboard (docs/api.md). */
export { ApiServer, API_PORT, type ApiServerOptions, isLoopback } from './server.js';
export { NodeMetrics, Histogram, LOOKUP_BUCKETS } from './metrics.js';
export { readToken, writeToken, TOKEN_FILE } from './token.js';
export { ApiError } from './http.js';
export { API_VERSION, MAX_UPLOAD_BYTES } from './routes.js';
