/**
 * What profiling showed for the targets Packr misses. Written by hand from `pnpm bench:focus
 * --prof` (Packr under `node --cpu-prof`) and `--jobs off`, so it is dated and says what was run;
 * RESULTS.md prints it as it is. Update it when a profile is taken again.
 */
export const PROFILE_NOTES: string[] = [
  "Taken 2026-12-02 on main with `pnpm bench:focus --prof` (and `--jobs off`), same machine, right after the full run.",
  "",
  "- **Publish p50 (missed, ~1.6× Verdaccio).** Of the server CPU per first-version publish, the analysis job that every publish commits " +
    "(`version.analyze`: gunzip and read the tarball, TypeScript's parser over the `.d.ts` files, capabilities) is about 35 ms: " +
    "`bench:focus --jobs on` 61–74 ms CPU per publish, p50 29–37 ms; `--jobs off` 25–38 ms CPU, p50 19–27 ms (two runs each). " +
    "The embedded default runs that job in the registry's own thread, so with publishes back to back it runs between them. " +
    "Of what is left, the profile puts about 2 ms per publish in the request's own JavaScript (the largest single piece the " +
    "base64 check of the attachment, a regex over the whole string, then semver range parsing for the dist-tags and the signature); " +
    "the rest is PGlite executing the publish transaction (version row, both packuments, search document, outbox row, audit event) " +
    "in WebAssembly on the same thread. Verdaccio writes one JSON file. The causes, not fixed in this change: the job belongs in a " +
    "worker thread (or `apps/worker` when REDIS_URL is set), and on PostgreSQL the SQL leaves the process; both are named in the notes of issue #7.",
  "- **Small packument CPU ratio to bare (missed by ratio, met in µs).** 40–47 µs per request against the bare server's 17–30 µs: " +
    "the bytes are precomputed and cached, so what remains is Hono's routing, the one first middleware (request id, token check, " +
    "runtime) and the node-server adapter writing the response. The earlier profile's costs — a `Headers` object per response, " +
    "URL parsing, a second middleware, building log fields — were removed by the hot-path change that landed with it (small abbreviated 99 → 76 µs, tarball " +
    "536 → 251 µs at the time, on a busier machine).",
  "- **Tarball and 2,000-version packument (missed by CPU ratio).** Both are byte-bound: small tarballs come from the 64 MB in-process " +
    "LRU and big documents from the precomputed gzip, so the difference to the bare server is the access check and the adapter's " +
    "copy of the body; at req/s Packr matches the bare server on tarballs (autocannon, not the server, is the limit there).",
];
