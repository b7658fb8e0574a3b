/**
 * Loaded into every server the bench starts (`node --require`): if the bench process dies
 * without stopping it (SIGKILL, a crash), the server notices its parent changed and ends itself.
 */
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
}, 500).unref();

export {};
