/**
 * What profiling showed for the targets Packr misses. Written by hand from `pnpm bench:focus
 * --prof` (Packr under `node --cpu-prof`) and `--jobs off`, so it is dated and says what was run;
 * RESULTS.md prints it as it is. Update it when a profile is taken again.
 */
export const PROFILE_NOTES: string[] = [
  "Taken 2026-12-02 on main with `pnpm bench:focus --prof` (and `--jobs off`), and for publish an in-process profile of 120 first-version publishes (inspector, 100 µs sampling), same machine.",
  "",
  "- **Publish p50 (missed, ~1.9× Verdaccio in this run).** The first profile put about 35 ms of CPU per publish in the analysis job " +
    "(`version.analyze`: gunzip, tar, TypeScript's parser over the `.d.ts` files) running on the registry's own thread between back-to-back " +
    "publishes. That part now runs on a worker thread (`PACKR_ANALYSIS_THREADS`, piscina): p50 25.4 → 20 ms between the two full runs. " +
    "What is left is the request itself, about 15 ms of CPU in process: PGlite about 9 ms of it (7 ms executing 15 statements in WebAssembly, " +
    "1.5 ms turning result rows into objects), drizzle building the queries about 1.5 ms, the request's own JavaScript about 1 ms, HTTP about 3 ms. " +
    "The largest statement is the search document (2.5 ms per publish on average): `to_tsvector` over the readme costs about 7 ms for a " +
    "50 KB readme in PGlite. Verdaccio writes one JSON file. Next: fewer statements per publish (the package insert and its row lock as one), " +
    "the readme's search vector computed by the analysis job instead of the request, and the same measurement on PostgreSQL, where the SQL leaves the process.",
  "- **Small packument CPU ratio to bare (missed by ratio, met in µs).** 40–47 µs per request against the bare server's 17–30 µs: " +
    "the bytes are precomputed and cached, so what remains is Hono's routing, the one first middleware (request id, token check, " +
    "runtime) and the node-server adapter writing the response. The earlier profile's costs — a `Headers` object per response, " +
    "URL parsing, a second middleware, building log fields — were removed by the hot-path change that landed with it (small abbreviated 99 → 76 µs, tarball " +
    "536 → 251 µs at the time, on a busier machine).",
  "- **Tarball and 2,000-version packument (missed by CPU ratio).** Both are byte-bound: small tarballs come from the 64 MB in-process " +
    "LRU and big documents from the precomputed gzip, so the difference to the bare server is the access check and the adapter's " +
    "copy of the body; at req/s Packr matches the bare server on tarballs (autocannon, not the server, is the limit there).",
];
