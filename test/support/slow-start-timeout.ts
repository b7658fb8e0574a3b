// Each integration and browser file starts real services (its own database, every migration, the
// apps): more than Jest's 5 s default for a hook on a loaded two-core machine. Nothing is timed by
// this; it only bounds a hang. A project's `testTimeout` in jest.config.js would not do: Jest 30's
// runner reads only the global one, so this is set per file, from the projects' setupFilesAfterEnv.
jest.setTimeout(30_000);
